// The fetch supabase-js sends its requests with: Node's own http and https,
// each answer read whole before it is handed over. Node's fetch (undici)
// spent about a quarter of a REST run's CPU in the client (web streams,
// header checks, one body stream wrapped in another for the deadlines): a
// tiny sync's 89 requests took 1.25 CPU-s, 0.95 over this. It keeps what
// supasync relies on from fetch: a failure to connect rejects as fetch's
// does (TypeError "fetch failed", the reason as its cause, which errors.ts
// reads), an abort rejects with the signal's reason, gzip, deflate and
// brotli answers arrive decoded, and a redirect within the same origin is
// followed as fetch follows it.
// A redirect to another origin is answered as it came: following it would
// hand the project's key to that origin (web-page-answers.ts names it).
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';

/** Told each piece of the answer's body as it arrives, decoded (the deadlines grow with it: request-deadline.ts). */
export type BodyProgress = (bytes: number) => void;

export type ProgressFetch = (input: string | URL | Request, init?: RequestInit & { onBody?: BodyProgress }) => Promise<Response>;

// Kept open between requests, as fetch keeps its connections.
const AGENTS = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
const MAX_REDIRECTS = 20;
const NO_BODY = new Set([101, 204, 205, 304]);

export const httpFetch: ProgressFetch = async (input, init = {}) => {
  if (input instanceof Request) throw new TypeError('httpFetch takes a URL, not a Request');
  let url = new URL(input);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = requestBody(init.body);
  const headers: Record<string, string> = { accept: '*/*', 'user-agent': 'node', 'accept-encoding': 'gzip, deflate' };
  new Headers(init.headers).forEach((value, name) => (headers[name] = value));
  for (let redirects = 0; ; redirects++) {
    const response = await send(url, method, headers, body, init);
    const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
    if (!location || init.redirect === 'manual' || redirects === MAX_REDIRECTS) return response;
    const next = new URL(location, url);
    if (next.origin !== url.origin) return response;
    // As fetch does: 303, and 301 or 302 after a POST, are followed as a GET without the body.
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
      for (const name of Object.keys(headers)) if (name.startsWith('content-')) delete headers[name];
    }
    url = next;
  }
};

function requestBody(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('httpFetch sends a string or bytes as a body, not a stream or form');
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  init: RequestInit & { onBody?: BodyProgress },
): Promise<Response> {
  const signal = init.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const transport = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!transport) return reject(new TypeError('fetch failed', { cause: new Error(`unknown scheme ${url.protocol}`) }));
    const sentHeaders = body ? { ...headers, 'content-length': String(body.byteLength) } : headers;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      request.destroy();
      reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
    };
    const abort = () => fail(signal?.reason);
    const request = transport.request(url, { method, headers: sentHeaders, agent: AGENTS[url.protocol as 'http:' | 'https:'] }, (incoming) => {
      const status = incoming.statusCode ?? 0;
      const encoding = String(incoming.headers['content-encoding'] ?? '')
        .trim()
        .toLowerCase();
      // Asked for gzip and deflate, as Node's fetch asks; brotli decoded too, should a server send it unasked.
      const decoder =
        encoding === 'gzip' || encoding === 'x-gzip'
          ? zlib.createGunzip()
          : encoding === 'deflate'
            ? zlib.createInflate()
            : encoding === 'br'
              ? zlib.createBrotliDecompress()
              : undefined;
      const stream: Readable = decoder ? incoming.pipe(decoder) : incoming;
      incoming.on('error', fail);
      // ('aborted' is deprecated: a close before the answer completed is the same event.)
      incoming.on('close', () => {
        if (!incoming.complete) fail(new Error('the connection closed before the whole answer arrived'));
      });
      decoder?.on('error', fail);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        init.onBody?.(chunk.byteLength);
      });
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', abort);
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (Array.isArray(value)) for (const one of value) answerHeaders.append(name, one);
          else if (value !== undefined) answerHeaders.set(name, value);
        }
        const bytes = NO_BODY.has(status) || method === 'HEAD' ? null : Buffer.concat(chunks);
        resolve(new Response(bytes, { status, statusText: incoming.statusMessage ?? '', headers: answerHeaders }));
      });
    });
    request.on('error', fail);
    signal?.addEventListener('abort', abort, { once: true });
    request.end(body);
  });
}
