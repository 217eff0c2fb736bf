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
import { httpFetch } from './http-fetch.ts';

export function connectSupabase(
  url: string,
  serviceRoleKey: string,
  concurrency = DEFAULT_CONCURRENCY,
  deadlines: DeadlineOptions = {},
  run?: string,
): SupabaseClient {
  const client = createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
    global: { fetch: limitRequests(concurrency, refuseWebPages(withDeadlines(httpFetch, deadlines))), ...(run ? { headers: { 'x-supasync-run': run } } : {}) },
  });
  projects.set(client, url);
  return client;
}

const projects = new WeakMap<SupabaseClient, string>();

/** The project a client of connectSupabase's reaches: a run's several clients of one project are one project to it. */
export function projectOf(client: SupabaseClient): string | undefined {
  return projects.get(client);
}
