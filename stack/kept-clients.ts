// withClient: one connection for a piece of work, kept a few seconds after
// it for the next piece on the same URL. The tests call it thousands of
// times a run, a few databases at a time, and a new connection costs the
// server a backend forked and its catalog caches filled again: 60 calls that
// each read eight tables' digests took PostgreSQL 1.7-2.0 CPU-s on new
// connections and 0.1-0.45 on one kept (about 25 ms a connection).
import pg from 'pg';

const KEPT_MS = 5_000;
const KEPT_PER_URL = 4;

interface Kept {
  client: pg.Client;
  timer: NodeJS.Timeout;
}

const kept = new Map<string, Kept[]>();
const broken = new WeakSet<pg.Client>();

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await checkOut(url);
  let done = false;
  try {
    const result = await work(client);
    done = true;
    return result;
  } finally {
    if (done) await checkIn(url, client);
    else await end(client);
  }
}

/** Ends the kept connections to `database` (every database when none is named): before it is dropped or copied as a template, which refuses while any session is in it. */
export async function closeKeptClients(database?: string): Promise<void> {
  const closing: Promise<void>[] = [];
  for (const [url, list] of kept) {
    if (database !== undefined && databaseOf(url) !== database) continue;
    kept.delete(url);
    for (const { client, timer } of list) {
      clearTimeout(timer);
      closing.push(end(client));
    }
  }
  await Promise.all(closing);
}

async function checkOut(url: string): Promise<pg.Client> {
  const list = kept.get(url) ?? [];
  for (let entry = list.pop(); entry; entry = list.pop()) {
    clearTimeout(entry.timer);
    if (broken.has(entry.client)) continue;
    // Another session may have ended it (pg_terminate_backend, DROP DATABASE ... WITH (FORCE)) before word of it arrived.
    try {
      await entry.client.query('SELECT');
      return entry.client;
    } catch {
      await end(entry.client);
    }
  }
  const client = new pg.Client({ connectionString: url });
  // An idle client whose session the server ends emits 'error'; unheard, that would end the process.
  client.on('error', () => broken.add(client));
  client.on('end', () => broken.add(client));
  await client.connect();
  return client;
}

async function checkIn(url: string, client: pg.Client): Promise<void> {
  const list = kept.get(url) ?? [];
  if (broken.has(client) || list.length >= KEPT_PER_URL || client.listenerCount('notification') > 0 || client.listenerCount('notice') > 0) {
    await end(client);
    return;
  }
  // DISCARD ALL puts the session back as a new one has it (role, settings, prepared plans, temporary tables,
  // advisory locks, LISTENs), and refuses inside a transaction: one the work left open ends with its connection.
  try {
    await client.query('DISCARD ALL');
  } catch {
    await end(client);
    return;
  }
  const timer = setTimeout(() => {
    const at = list.findIndex((entry) => entry.client === client);
    if (at >= 0) list.splice(at, 1);
    void end(client);
  }, KEPT_MS);
  timer.unref();
  list.push({ client, timer });
  kept.set(url, list);
}

async function end(client: pg.Client): Promise<void> {
  broken.add(client);
  await client.end().catch(() => undefined);
}

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}
