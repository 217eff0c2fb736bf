// The network between a user's machine and Supabase, as the gateway's remote
// profile models it (shared/docs/benchmarks.md, "REST path"): one link per
// direction, shared by every connection, each a queue. A chunk waits until the
// chunks queued before it, from any connection, have crossed, then occupies the
// link for size / rate. So concurrent requests share the bandwidth; they do
// not multiply it.
import { Transform, type TransformCallback } from 'node:stream';

/** Chunks a stream may have on the link at once. */
const WINDOW = 2;

export interface LinkRates {
  /** Response bodies, gateway to client. */
  downBytesPerSecond: number;
  /** Request bodies, client to gateway. */
  upBytesPerSecond: number;
}

/** 5 MB/s down, 2.5 MB/s up (MB = 10^6 bytes): the benchmarks' remote profile. */
export const REMOTE_RATES: LinkRates = { downBytesPerSecond: 5_000_000, upBytesPerSecond: 2_500_000 };

/** One direction of the link. */
export class LinkDirection {
  /** When the last queued chunk will have crossed, on performance.now()'s clock. */
  private busyUntil = 0;

  constructor(readonly bytesPerSecond: number) {}

  /** Queues `bytes` on the link; returns when they will have crossed, on performance.now()'s clock. */
  reserve(bytes: number): number {
    this.busyUntil = Math.max(performance.now(), this.busyUntil) + (bytes / this.bytesPerSecond) * 1000;
    return this.busyUntil;
  }

  /**
   * A stream that lets each chunk through once it has crossed the link. Like
   * a TCP sender's window, it takes the next chunk while the last one is still
   * crossing, so a single stream keeps the link busy; beyond WINDOW chunks it
   * holds the producer back (PostgREST's response, the client's upload).
   */
  throttle(): Transform {
    const reserve = (bytes: number) => this.reserve(bytes);
    const queued: { chunk: Buffer; at: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let resume: TransformCallback | undefined;
    let flushed: TransformCallback | undefined;
    const release = (stream: Transform) => {
      timer = undefined;
      // Timers fire no earlier than 1 ms and often later; the queue's clock is
      // absolute, so releasing a chunk a fraction of a millisecond early never adds up.
      const now = performance.now() + 1;
      while (queued[0] && queued[0].at <= now) stream.push(queued.shift()!.chunk);
      if (queued[0]) timer = setTimeout(release, queued[0].at - performance.now(), stream);
      if (queued.length < WINDOW && resume) {
        const next = resume;
        resume = undefined;
        next();
      }
      if (!queued.length) flushed?.();
    };
    return new Transform({
      transform: function (this: Transform, chunk: Buffer, _encoding, done: TransformCallback) {
        queued.push({ chunk, at: reserve(chunk.length) });
        if (!timer) timer = setTimeout(release, queued[0]!.at - performance.now(), this);
        if (queued.length < WINDOW) done();
        else resume = done;
      },
      flush(done: TransformCallback) {
        if (!queued.length) done();
        else flushed = done;
      },
      destroy(error, done) {
        clearTimeout(timer);
        done(error);
      },
    });
  }
}

export class Link {
  readonly up: LinkDirection;
  readonly down: LinkDirection;

  constructor(rates: LinkRates = REMOTE_RATES) {
    this.up = new LinkDirection(rates.upBytesPerSecond);
    this.down = new LinkDirection(rates.downBytesPerSecond);
  }

  /** The shortest time these bytes can take: the slower direction, as reads and writes may overlap. */
  static wireSeconds(bytes: { up: number; down: number }, rates: LinkRates = REMOTE_RATES): number {
    return Math.max(bytes.up / rates.upBytesPerSecond, bytes.down / rates.downBytesPerSecond);
  }
}
