// supabase-js as a server-side client: no session, no token refresh, and
// `ws` as realtime's transport, without which createClient throws on Node 20
// even though a sync never opens a realtime channel. Every request it makes
// waits for a slot (request-limit.ts), goes over Node's http (http-fetch.ts)
// and has a deadline (request-deadline.ts); a web page or a redirect in
// answer is said as such (web-page-answers.ts).
// `run`: the id of the run the requests belong to, sent as x-supasync-run:
// staging's write functions refuse requests of any run but the one holding
// staging (rest/lease.ts).
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { withDeadlines, type DeadlineOptions } from './request-deadline.ts';
import { DEFAULT_CONCURRENCY, limitRequests } from './request-limit.ts';
import { refuseWebPages } from './web-page-answers.ts';
import { httpFetch, type ProgressFetch } from './http-fetch.ts';
import { isStopping } from '../interrupt.ts';

/**
 * `sendsWhenStopped`: the client that lets go of staging as a run stops
 * (rest/lease.ts). Every other client sends nothing more once a signal has
 * come (interrupt.ts): a request not sent by then is never sent, and waits
 * for the exit. It would write what the person at the terminal has just
 * stopped, and share the link with the request that lets go of staging.
 */
export function connectSupabase(
  url: string,
  serviceRoleKey: string,
  concurrency = DEFAULT_CONCURRENCY,
  deadlines: DeadlineOptions = {},
  run?: string,
  { sendsWhenStopped = false } = {},
): SupabaseClient {
  const send = sendsWhenStopped ? httpFetch : sentUntilStopped(httpFetch);
  const client = createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
    global: { fetch: limitRequests(concurrency, refuseWebPages(withDeadlines(send, deadlines))), ...(run ? { headers: { 'x-supasync-run': run } } : {}) },
  });
  projects.set(client, url);
  return client;
}

const projects = new WeakMap<SupabaseClient, string>();

/** The project a client of connectSupabase's reaches: a run's several clients of one project are one project to it. */
export function projectOf(client: SupabaseClient): string | undefined {
  return projects.get(client);
}

const sentUntilStopped =
  (fetchImpl: ProgressFetch): ProgressFetch =>
  (input, init) =>
    isStopping() ? new Promise<Response>(() => undefined) : fetchImpl(input, init);
