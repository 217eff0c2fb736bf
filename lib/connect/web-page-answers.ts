// PostgREST answers in JSON, or with nothing. A web page (or other text) under /rest/v1/ came
// from something else at that URL: an app, a dashboard, a proxy, or the
// gateway's error page while a project is paused or restarting. supabase-js
// would print the page's HTML as the error, or read a 200 page as an answer
// of no shape, which said "functions older than this supasync". Such an
// answer becomes a PostgREST-like error that says what answered and what to
// check. So does a redirect to another origin, which http-fetch.ts does not
// follow. Storage's answers are left as they are: a file may be a web page.

/** The error code of an answer replaced here: the request is not retried for it (a 5xx page keeps its status, and is). */
export const WEB_PAGE_ANSWER = 'SUPASYNC_WEB_PAGE';

/** 421 Misdirected Request: the request reached a server that does not answer for this API. */
const MISDIRECTED = 421;

/**
 * What a project's URL answering as no Supabase API does is said as: a 5xx page the project's gateway's (paused,
 * restarting), anything else a URL that is not the project's API. Storage's answers say the same (storage/api.ts).
 */
export function notTheApi(answer: { origin: string; path?: string; status: number; api: 'REST' | 'Storage'; what: string }): string {
  const { origin, status, api, what } = answer;
  if (status >= 500) {
    return (
      `${origin} answered with ${what === 'a web page' ? 'an error page' : what} (HTTP ${status}) rather than Supabase's ${api} API: ` +
      'the project may be paused, restarting or overloaded (the dashboard says which). Run again once it answers.'
    );
  }
  return (
    `${origin} answered ${answer.path ? `${answer.path} ` : ''}with ${what} (HTTP ${status}), not with Supabase's ${api} API: ` +
    "is it the project's API URL, https://<project-ref>.supabase.co as the dashboard's Settings > API shows it, and not the app's or the dashboard's address?"
  );
}

export function refuseWebPages(fetchImpl: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!url.pathname.includes('/rest/v1/')) return response;
    // http-fetch.ts follows no redirect to another origin: the key would go with it.
    const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
    if (location) {
      await response.body?.cancel();
      const target = new URL(location, url);
      const message =
        `${url.origin} answered ${url.pathname} with a redirect (HTTP ${response.status}) to ${target.origin}${target.pathname}, ` +
        `which supasync does not follow with the project's key: if ${target.origin} is the project's API, use it as the URL ` +
        "(https://<project-ref>.supabase.co, as the dashboard's Settings > API shows it).";
      return new Response(JSON.stringify({ code: WEB_PAGE_ANSWER, message, details: null, hint: null }), {
        status: MISDIRECTED,
        headers: { 'content-type': 'application/json' },
      });
    }
    const type = response.headers.get('content-type') ?? '';
    // A gateway without the route (Kong's own 404): the URL reaches an API gateway, not this one's REST API.
    const unrouted = response.status === 404 && /json/i.test(type) && /no Route matched/i.test(await response.clone().text());
    // PostgREST answers in JSON (or nothing); text of any other kind came from something else.
    const page = /^\s*(text\/|application\/xhtml)/i.test(type);
    if (!page && !unrouted) return response;
    await response.body?.cancel();
    const failing = response.status >= 500;
    const what = unrouted ? "its gateway's 404 (no Route matched)" : /html/i.test(type) ? 'a web page' : `${type.split(';')[0]?.trim()} text`;
    const message = notTheApi({ origin: url.origin, path: url.pathname, status: response.status, api: 'REST', what });
    return new Response(JSON.stringify({ code: WEB_PAGE_ANSWER, message, details: null, hint: null }), {
      status: failing ? response.status : MISDIRECTED,
      headers: { 'content-type': 'application/json' },
    });
  };
}
