// Every request to a project gets a deadline, so a run never waits on an
// answer that is not coming. Without one, a request waits as long as the
// connection stays open, and a body that trickles is never cut.
//
// The deadline is sized to what crosses the link while the request is out:
// a base for the server's work, plus time for the bytes at a slow link's
// rate. Those bytes are its own request body and answer, and the other
// requests' bodies and answers through this client meanwhile, since they
// share the user's one connection. So a request with nothing moving is cut
// a base after it was sent, while a large one, or one among many, gets the
// time its bytes need: the bound grows as bytes arrive, and only a stall
// lets the clock catch up with it.
import type { ProgressFetch } from './http-fetch.ts';

/**
 * What any request may take beyond its bytes. The server's own limit is 8 s
 * (service_role's statement timeout on Supabase) and Supabase's gateway
 * stops a request at about 60 s: 30 s is several statement timeouts of
 * queueing and connecting, and still leaves half the gateway's minute to the
 * bytes, so a stall shows here before the gateway's answer would.
 */
export const REQUEST_BASE_MS = 30_000;

/**
 * The link the bytes' time assumes: 1 MB/s (8 Mbit/s), a slow home upload
 * and less than half the 2.5 MB/s up of the benchmarks' remote profile. A
 * slower link still works while its requests stay small, inside the base.
 */
export const SLOW_LINK_BYTES_PER_SECOND = 1_000_000;

/** What a timed-out request rejects with; supabase-js reports it as status 0, message `RequestTimeout: ...`. */
export class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
}

/** Whether a supabase-js error message is a timeout of ours. */
export const isRequestTimeout = (message: string): boolean => message.startsWith('RequestTimeout:');

export interface DeadlineOptions {
  baseMs?: number;
  bytesPerSecond?: number;
}

/** Bytes through one client: what its link carried, for every request's allowance. */
interface LinkBytes {
  up: number;
  down: number;
  /** Request bodies of requests not finished yet: queued ahead of or alongside a new one. */
  upInFlight: number;
}

export function withDeadlines(fetchImpl: ProgressFetch, options: DeadlineOptions = {}): typeof fetch {
  const baseMs = options.baseMs ?? REQUEST_BASE_MS;
  const bytesPerMs = (options.bytesPerSecond ?? SLOW_LINK_BYTES_PER_SECOND) / 1000;
  const link: LinkBytes = { up: 0, down: 0, upInFlight: 0 };

  return async (input, init) => {
    const sent = bodyBytes(init?.body);
    const started = performance.now();
    const mark = { up: link.up, down: link.down, ahead: link.upInFlight };
    link.up += sent;
    link.upInFlight += sent;
    let received = 0;
    const allowedMs = () => baseMs + (mark.ahead + link.up - mark.up + link.down - mark.down) / bytesPerMs;

    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const left = allowedMs() - (performance.now() - started);
      if (left > 0) {
        timer = setTimeout(check, left);
        return;
      }
      const what = `${init?.method ?? 'GET'} ${new URL(String(input instanceof Request ? input.url : input)).pathname}`;
      controller.abort(
        new RequestTimeout(
          `no complete answer to ${what} within ${((performance.now() - started) / 1000).toFixed(0)} s ` +
            `(${formatBytes(sent)} sent, ${formatBytes(received)} received)`,
        ),
      );
    };
    timer = setTimeout(check, allowedMs());
    const signal = init?.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    const onBody = (bytes: number) => {
      received += bytes;
      link.down += bytes;
    };
    try {
      // The answer arrives whole (http-fetch.ts): the deadline covers its last byte.
      return await fetchImpl(input, { ...init, signal, onBody });
    } finally {
      clearTimeout(timer);
      link.upInFlight -= sent;
    }
  };
}

function bodyBytes(body: RequestInit['body']): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  if (bytes >= 1_000) return `${(bytes / 1_000).toFixed(1)} kB`;
  return `${bytes} B`;
}
