// The part of Supabase's API gateway a sync meets: PostgREST served under
// /rest/v1, and requests without a valid `apikey` turned away with 401.
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { freePort } from './ports.ts';

export interface Gateway {
  /** What a user puts in SUPABASE_*_URL. */
  url: string;
  stop(): Promise<void>;
}

const REST_PREFIX = '/rest/v1';

export async function startGateway(options: { postgrestUrl: string; apiKeys: string[] }): Promise<Gateway> {
  const upstream = new URL(options.postgrestUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const port = await freePort();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    if (url.pathname !== REST_PREFIX && !url.pathname.startsWith(`${REST_PREFIX}/`)) {
      return reply(res, 404, { message: 'no Route matched with those values' });
    }
    const apiKey = headerValue(req, 'apikey') ?? url.searchParams.get('apikey');
    if (!apiKey) {
      return reply(res, 401, {
        message: 'No API key found in request',
        hint: 'No `apikey` request header or url param was found.',
      });
    }
    if (!options.apiKeys.includes(apiKey)) {
      return reply(res, 401, {
        message: 'Invalid API key',
        hint: 'Double check your Supabase `anon` or `service_role` API key.',
      });
    }
    url.searchParams.delete('apikey');
    const path = url.pathname.slice(REST_PREFIX.length) || '/';
    const headers = { ...req.headers, host: upstream.host };
    const proxied = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: path + url.search, headers, agent },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    proxied.on('error', (error) => {
      if (!res.headersSent) reply(res, 502, { message: `upstream error: ${error.message}` });
      else res.destroy();
    });
    req.pipe(proxied);
  });

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
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

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
