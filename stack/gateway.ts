// The part of Supabase's API gateway a sync meets: PostgREST served under
// /rest/v1, Storage under /storage/v1, and requests without a valid `apikey`
// turned away with 401. An opaque key (sb_secret_..., sb_publishable_...) is
// not a JWT the services could read: the gateway puts its role's JWT in
// Authorization in its place, as Supabase's does.
//
// Two behaviours tests and benchmarks switch at runtime:
// - faults (injectFaults): the next requests get a 503, or lose their
//   connection before the service sees them, or after it answered, or
//   never hear its answer at all;
// - the profile: `local` (default) passes everything straight through;
//   `remote` is a Supabase project across the internet as
//   shared/docs/benchmarks.md defines it: 40 ms added to every request,
//   responses gzip-compressed when the client accepts it (Storage's only
//   when they are JSON or text, as the edge compresses by type), and the bodies
//   squeezed through a shared link (stack/link.ts) of 5 MB/s down, 2.5 MB/s up.
// Request and response body bytes are counted in both profiles.
import type { AddressInfo } from 'node:net';
import { createServer, request as httpRequest, Agent, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { Transform, pipeline, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants as zlib, createGzip } from 'node:zlib';
import { Link } from './link.ts';

export type GatewayProfile = 'local' | 'remote';

/** Added to every request in the remote profile, before it is forwarded. */
export const REMOTE_LATENCY_MS = 40;

export type GatewayApi = 'rest' | 'storage';

export interface GatewayOptions {
  /**
   * Where PostgREST listens. A path is kept as a prefix: another gateway's `<url>/rest/v1` works too.
   * Or a function that starts it and says where, called on the first request to /rest/v1.
   */
  postgrestUrl: string | (() => Promise<string>);
  /** Where Storage listens, served at /storage/v1; without it /storage/v1 is a 404. */
  storageUrl?: string;
  /** Keys that are JWTs (legacy anon and service_role keys): forwarded as sent. */
  apiKeys: string[];
  /**
   * Opaque keys (sb_secret_..., sb_publishable_...) and the JWT of the role
   * each stands for. When Authorization is absent, or repeats the key (as
   * supabase-js sends it) on a request to PostgREST, the gateway forwards
   * `Bearer <that JWT>` instead; Storage gets an opaque key in Authorization
   * as sent, and refuses it (docs: supabase-platform.md, API keys).
   */
  opaqueKeys?: Record<string, string>;
  /** Default `local`: no delay, no compression, no cap. */
  profile?: GatewayProfile;
  /** The link the remote profile crosses; pass one Link to several gateways to model one user's connection. */
  link?: Link;
}

/**
 * Faults for the next requests that match. A request takes one fault, from the
 * first rule that matches and has some left, in this order: status503, drop,
 * dropAfterUpstream, stall. Each call adds a rule; an exhausted rule is forgotten.
 */
export interface FaultRule {
  /**
   * Answered 503 without forwarding: on /rest/v1 with PostgREST's "schema
   * cache" body (PGRST002, as Supabase projects answer while PostgREST is
   * unavailable), on /storage/v1 with the gateway's own "no upstream" body.
   */
  status503?: number;
  /** Connection reset (TCP RST) before the request is forwarded: the service never sees it. */
  drop?: number;
  /**
   * Forwarded; the service's whole answer is read (a write is committed), then
   * the client's connection is reset without a byte of it: the client cannot
   * tell whether its request happened.
   */
  dropAfterUpstream?: number;
  /**
   * Forwarded; the service's whole answer is read (a write is committed) and
   * held: the client's connection stays open and silent until the client
   * gives up, as behind a gateway or link that hangs.
   */
  stall?: number;
  /** The API whose requests the rule takes: 'rest' (the default) or 'storage'. */
  api?: GatewayApi;
  /**
   * Only requests whose path under the API's prefix (/rest/v1 or /storage/v1),
   * without the query, matches: /^\/rpc\//, /^\/code_embeddings$/, /^\/object\/avatars\//.
   */
  onlyPaths?: RegExp;
  /** Only these methods, e.g. ['POST']. */
  onlyMethods?: string[];
  /** Let this many matching requests through first: `skip: 2` faults the third (the Nth download: N - 1). */
  skip?: number;
}

const FAULT_KINDS = ['status503', 'drop', 'dropAfterUpstream', 'stall'] as const;
type FaultKind = (typeof FAULT_KINDS)[number];
// Counted once the service has answered, not when the request is picked: a test
// that waits for the count then finds the write committed, whatever it does next.
const AFTER_UPSTREAM = new Set<FaultKind>(['dropAfterUpstream', 'stall']);

export interface GatewayStats {
  /** Requests that passed the apikey check, per path under /rest/v1 ('/hotels', '/rpc/supasync_catalog'), faulted ones included. */
  requests: Record<string, number>;
  /** The same for /storage/v1, per path under it ('/bucket', '/object/list/avatars', '/object/avatars/a/b.png'). */
  storageRequests: Record<string, number>;
  /** Faults applied so far; a stall or dropAfterUpstream once the service's answer is read (its write committed). */
  faults: Record<FaultKind, number>;
  /** Request body bytes received from clients. */
  bytesUp: number;
  /** Response body bytes sent to clients, as sent: compressed when compressed. */
  bytesDown: number;
  /** The most client connections open at once since the last reset. */
  peakConnections: number;
}

export interface Gateway {
  /** What a user puts in SUPABASE_*_URL. */
  url: string;
  readonly profile: GatewayProfile;
  /** Applies to requests that arrive from now on. `link` replaces the one remote requests cross. */
  setProfile(profile: GatewayProfile, link?: Link): void;
  injectFaults(rule: FaultRule): void;
  /** Forgets every fault not applied yet. */
  clearFaults(): void;
  /** A copy of the counters. */
  stats(): GatewayStats;
  /**
   * From now on keep every request's method, path with its query, and body
   * as the client sent them (tests check what a client sent: no raw value of
   * a masked column in a request to staging); false stops and forgets.
   */
  captureRequests(on: boolean): void;
  /** The /rest/v1 requests kept since captureRequests(true), in the order their bodies ended (file uploads are not kept). */
  capturedRequests(): CapturedRequest[];
  resetStats(): void;
  stop(): Promise<void>;
}

export interface CapturedRequest {
  method: string;
  /** Under /rest/v1, with the query string. */
  path: string;
  body: string;
  /** Its place among the requests the gateway has taken, as they arrived: the list is in the order their bodies ended. */
  arrived: number;
}

const PREFIXES: Record<GatewayApi, string> = { rest: '/rest/v1', storage: '/storage/v1' };

// The edge compresses on its own CPU, the gateway on the benchmark's: level 1
// spends a third of level 6's CPU on JSON of floats for about 6% more bytes.
const GZIP_LEVEL = zlib.Z_BEST_SPEED;

// What a Supabase project answers while its PostgREST cannot serve
// (supabase/supabase#50385, #38234).
const UNAVAILABLE_BODY = {
  code: 'PGRST002',
  details: null,
  hint: null,
  message: 'Could not query the database for the schema cache. Retrying.',
};

// What the gateway answers on /storage/v1 when it has no healthy upstream
// (Kong's words); the storage server's own overload errors are HTTP 400s
// with statusCode "503" in the body, not this.
const STORAGE_UNAVAILABLE_BODY = { message: 'failure to get a peer from the ring-balancer' };

const emptyStats = (): GatewayStats => ({
  requests: {},
  storageRequests: {},
  faults: { status503: 0, drop: 0, dropAfterUpstream: 0, stall: 0 },
  bytesUp: 0,
  bytesDown: 0,
  peakConnections: 0,
});

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const storage = options.storageUrl ? new URL(options.storageUrl) : undefined;
  let rest: Promise<URL> | undefined;
  const upstreamOf = async (api: GatewayApi): Promise<URL | undefined> => {
    if (api === 'storage') return storage;
    const { postgrestUrl } = options;
    return (rest ??= typeof postgrestUrl === 'string' ? Promise.resolve(new URL(postgrestUrl)) : postgrestUrl().then((url) => new URL(url)));
  };
  const opaqueKeys = options.opaqueKeys ?? {};
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let profile: GatewayProfile = options.profile ?? 'local';
  let link = options.link ?? new Link();
  let rules: { left: Record<FaultKind, number>; api: GatewayApi; skip: number; onlyPaths?: RegExp; onlyMethods?: string[] }[] = [];
  let stats = emptyStats();
  let captured: CapturedRequest[] | null = null;

  const takeFault = (api: GatewayApi, method: string, path: string): FaultKind | undefined => {
    for (const rule of rules) {
      if (rule.api !== api) continue;
      if (rule.onlyMethods && !rule.onlyMethods.includes(method)) continue;
      if (rule.onlyPaths) {
        rule.onlyPaths.lastIndex = 0; // a /g or /y pattern would otherwise remember the last match
        if (!rule.onlyPaths.test(path)) continue;
      }
      const kind = FAULT_KINDS.find((k) => rule.left[k] > 0);
      if (!kind) continue;
      if (rule.skip > 0) {
        rule.skip--;
        continue;
      }
      rule.left[kind]--;
      if (!AFTER_UPSTREAM.has(kind)) stats.faults[kind]++;
      rules = rules.filter((r) => FAULT_KINDS.some((k) => r.left[k] > 0));
      return kind;
    }
    return undefined;
  };

  const reply = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    stats.bytesDown += Buffer.byteLength(text);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  };

  let arrivals = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const arrived = ++arrivals;
    // The profile and link in force when the request arrived serve it to the end.
    const remote = profile === 'remote';
    const requestLink = link;
    if (remote) await sleep(REMOTE_LATENCY_MS);

    const url = new URL(req.url ?? '/', 'http://gateway');
    const api = (Object.keys(PREFIXES) as GatewayApi[]).find((a) => url.pathname === PREFIXES[a] || url.pathname.startsWith(`${PREFIXES[a]}/`));
    const upstream = api && (await upstreamOf(api));
    if (!api || !upstream) {
      return reply(res, 404, { message: 'no Route matched with those values' });
    }
    const apiKey = headerValue(req, 'apikey') ?? url.searchParams.get('apikey');
    if (!apiKey) {
      return reply(res, 401, {
        message: 'No API key found in request',
        hint: 'No `apikey` request header or url param was found.',
      });
    }
    if (!options.apiKeys.includes(apiKey) && !Object.hasOwn(opaqueKeys, apiKey)) {
      return reply(res, 401, {
        message: 'Invalid API key',
        hint: 'Double check your Supabase `anon` or `service_role` API key.',
      });
    }
    url.searchParams.delete('apikey');
    const path = url.pathname.slice(PREFIXES[api].length) || '/';
    const counts = api === 'rest' ? stats.requests : stats.storageRequests;
    counts[path] = (counts[path] ?? 0) + 1;

    const fault = takeFault(api, req.method ?? 'GET', path);
    if (fault === 'status503') {
      req.resume();
      return reply(res, 503, api === 'rest' ? UNAVAILABLE_BODY : STORAGE_UNAVAILABLE_BODY);
    }
    if (fault === 'drop') {
      req.socket.resetAndDestroy();
      return;
    }

    const headers: OutgoingHttpHeaders = { ...req.headers, host: upstream.host };
    const roleJwt = Object.hasOwn(opaqueKeys, apiKey) ? opaqueKeys[apiKey] : undefined;
    // Storage checks the JWT in Authorization itself: an opaque key there reaches it as sent, and is refused ("Invalid Compact JWS").
    const repeatsKey = api === 'rest' && req.headers.authorization === `Bearer ${apiKey}`;
    if (roleJwt && (!req.headers.authorization || repeatsKey)) headers.authorization = `Bearer ${roleJwt}`;
    // The gateway compresses by itself: PostgREST (or the gateway behind) answers plain.
    if (remote) delete headers['accept-encoding'];
    const proxied = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: upstream.pathname.replace(/\/+$/, '') + path + url.search, headers, agent },
      (upstreamRes) => {
        if (fault === 'dropAfterUpstream') {
          upstreamRes.resume();
          upstreamRes.once('end', () => {
            stats.faults.dropAfterUpstream++;
            req.socket.resetAndDestroy();
          });
          return;
        }
        if (fault === 'stall') {
          upstreamRes.resume();
          upstreamRes.once('end', () => stats.faults.stall++);
          return;
        }
        const gzip =
          remote &&
          acceptsGzip(req) &&
          hasBody(req, upstreamRes) &&
          !upstreamRes.headers['content-encoding'] &&
          (api === 'rest' || compressibleType(upstreamRes.headers['content-type']));
        const responseHeaders: OutgoingHttpHeaders = { ...upstreamRes.headers };
        if (gzip) {
          delete responseHeaders['content-length'];
          responseHeaders['content-encoding'] = 'gzip';
          responseHeaders.vary = 'Accept-Encoding';
        }
        res.writeHead(upstreamRes.statusCode ?? 502, responseHeaders);
        const stages: Transform[] = [
          ...(gzip ? [createGzip({ level: GZIP_LEVEL })] : []),
          ...(remote ? [requestLink.down.throttle()] : []),
          countBytes((n) => (stats.bytesDown += n)),
        ];
        pipeline([upstreamRes, ...stages, res], (error) => {
          if (error) res.destroy();
        });
      },
    );
    proxied.on('error', (error) => {
      if (!res.headersSent) reply(res, 502, { message: `upstream error: ${error.message}` });
      else res.destroy();
    });
    const upload: Transform[] = [countBytes((n) => (stats.bytesUp += n)), ...(remote ? [requestLink.up.throttle()] : [])];
    if (captured && api === 'rest') upload.unshift(captureBody(captured, req.method ?? 'GET', path + url.search, arrived));
    pipeline([req as Readable, ...upload, proxied], (error) => {
      if (error) proxied.destroy();
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, { message: `gateway error: ${(error as Error).message}` });
      else res.destroy();
    });
  });

  // Clients keep their connections here open between requests, as behind Supabase's edge. With Node's 5 s default a
  // connection could close as a client sent a request on it, on a loaded machine ("fetch failed"): idle ones last a minute.
  server.keepAliveTimeout = 60_000;
  let openConnections = 0;
  server.on('connection', (socket) => {
    openConnections++;
    stats.peakConnections = Math.max(stats.peakConnections, openConnections);
    socket.once('close', () => openConnections--);
  });

  // Port 0: the kernel picks a free port as it binds, so parallel test files cannot collide.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get profile() {
      return profile;
    },
    setProfile(next, nextLink) {
      profile = next;
      if (nextLink) link = nextLink;
    },
    injectFaults(rule) {
      const left = { status503: rule.status503 ?? 0, drop: rule.drop ?? 0, dropAfterUpstream: rule.dropAfterUpstream ?? 0, stall: rule.stall ?? 0 };
      if (!FAULT_KINDS.some((kind) => left[kind] > 0)) return;
      rules.push({
        left,
        api: rule.api ?? 'rest',
        skip: rule.skip ?? 0,
        ...(rule.onlyPaths ? { onlyPaths: rule.onlyPaths } : {}),
        ...(rule.onlyMethods ? { onlyMethods: rule.onlyMethods.map((m) => m.toUpperCase()) } : {}),
      });
    },
    clearFaults() {
      rules = [];
    },
    stats: () => structuredClone(stats),
    captureRequests(on) {
      captured = on ? [] : null;
    },
    capturedRequests: () => [...(captured ?? [])],
    resetStats() {
      stats = { ...emptyStats(), peakConnections: openConnections };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// Node's fetch sends `accept-encoding: gzip, deflate` (br too on newer Nodes).
function acceptsGzip(req: IncomingMessage): boolean {
  return (headerValue(req, 'accept-encoding') ?? '').split(',').some((part) => {
    const [coding, ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    return coding === 'gzip' && (q === undefined || Number(q.slice(2)) > 0);
  });
}

// The edge compresses text and JSON, not the images and archives most buckets hold.
function compressibleType(contentType: string | undefined): boolean {
  return !!contentType && /^(text\/|application\/json)/i.test(contentType);
}

function hasBody(req: IncomingMessage, res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  return req.method !== 'HEAD' && status !== 204 && status !== 304 && res.headers['content-length'] !== '0';
}

/** Passes the body on, and keeps a copy of it in `into` once it has ended. */
function captureBody(into: CapturedRequest[], method: string, path: string, arrived: number): Transform {
  const chunks: Buffer[] = [];
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done(null, chunk);
    },
    flush(done) {
      into.push({ method, path, body: Buffer.concat(chunks).toString('utf8'), arrived });
      done();
    },
  });
}

function countBytes(add: (bytes: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      add(chunk.length);
      done(null, chunk);
    },
  });
}
