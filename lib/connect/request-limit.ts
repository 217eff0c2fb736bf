// At most `limit` requests at once to a project: each request in flight holds
// one HTTP connection, so this is also how many connections a run opens.
// A request counts until its body is read, since its connection is busy till
// then; supabase-js reads every body whole anyway.

/** Requests in flight to one project when --concurrency does not say: up to six tables, each with a read and writes going. */
export const DEFAULT_CONCURRENCY = 8;
/** The most --concurrency accepts: more requests at once than a project's PostgREST pool holds only queue there. */
export const MAX_CONCURRENCY = 32;

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Runs work at most `limit` at a time, the rest waiting their turn in order. */
export type Limited = <T>(work: () => Promise<T>) => Promise<T>;

export function limitConcurrency(limit: number): Limited {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    while (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await work();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

export function limitRequests(limit: number, fetchImpl: typeof fetch = fetch): typeof fetch {
  const limited = limitConcurrency(limit);
  return (input, init) =>
    limited(async () => {
      const response = await fetchImpl(input, init);
      const body = NULL_BODY_STATUSES.has(response.status) ? null : await response.arrayBuffer();
      // undici puts the connection back in its pool a turn of the event loop
      // after the body ends: a request started before that opens a new one.
      await new Promise((resolve) => setImmediate(resolve));
      return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    });
}
