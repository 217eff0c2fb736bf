// A direct connection answers one query at a time. pg queues the ones sent
// while another runs, and deprecates that queue (pg 9 drops it: such a
// query would then fail), so a Promise.all over one side's questions, which
// the engine writes for REST, where each is a request of its own, must not
// reach pg at once. Each query sent while one of ours is unanswered waits
// here for it, and they go out in the order they were asked.

import type pg from 'pg';

type Query = (...args: unknown[]) => unknown;

/**
 * From here on, `client.query(...)` with a promise sends nothing before the
 * answer to the query before it. A query sent while none is outstanding goes
 * out at once, as before: an unawaited BEGIN then a COPY stream keep their
 * order. Streams (COPY) and callbacks are handed to pg as they come: their
 * end is theirs to tell, and the engine awaits them before asking more.
 */
export function oneQueryAtATime(client: pg.Client): void {
  const query = client.query.bind(client) as Query;
  let outstanding = 0;
  let previous: Promise<unknown> = Promise.resolve();
  const follow = (answer: Promise<unknown>) => {
    outstanding++;
    previous = answer.then(
      () => outstanding--,
      () => outstanding--,
    );
  };
  (client as unknown as { query: Query }).query = (...args: unknown[]) => {
    const first = args[0] as { submit?: unknown } | null | undefined;
    if (typeof first?.submit === 'function' || typeof args[args.length - 1] === 'function') return query(...args);
    const answer = outstanding === 0 ? (query(...args) as Promise<unknown>) : previous.then(() => query(...args) as Promise<unknown>);
    follow(answer);
    return answer;
  };
}
