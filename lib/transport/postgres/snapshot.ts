// Production is read in one consistent snapshot: every reader sees the
// database as it was at one instant, so the copy is referentially whole
// even while production keeps taking writes.
import type pg from 'pg';
import { connectPostgres } from '../../connect/postgres.ts';

export interface Snapshot {
  readers: pg.Client[];
  close(): Promise<void>;
}

export async function openSnapshot(dbUrl: string, readers: number): Promise<Snapshot> {
  const clients: pg.Client[] = [];
  const close = async () => {
    await Promise.allSettled(clients.map((client) => client.query('ROLLBACK').finally(() => client.end())));
  };
  try {
    const first = await connectPostgres('production', dbUrl);
    clients.push(first);
    await first.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (readers > 1) {
      // Other sessions adopt the first one's snapshot (pg_export_snapshot).
      const { rows } = await first.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      for (let i = 1; i < readers; i++) {
        const reader = await connectPostgres('production', dbUrl);
        clients.push(reader);
        await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await reader.query(`SET TRANSACTION SNAPSHOT '${rows[0]?.id}'`);
      }
    } else {
      // REPEATABLE READ takes its snapshot at the first query, not at BEGIN.
      await first.query('SELECT 1');
    }
    return { readers: clients, close };
  } catch (error) {
    await close();
    throw error;
  }
}
