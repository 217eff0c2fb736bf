// Production is read in one consistent snapshot: every table is read as the
// database was at one instant, so the copy is referentially whole even while
// production keeps taking writes. One reader is enough: a single staging
// backend writes, and it takes rows no faster than one production backend
// sends them.
import type pg from 'pg';

export interface Snapshot {
  reader: pg.Client;
  /** Ends the snapshot; the connection stays open for its owner. */
  close(): Promise<void>;
}

export async function openSnapshot(reader: pg.Client): Promise<Snapshot> {
  const close = async () => {
    await reader.query('ROLLBACK').catch(() => undefined);
  };
  try {
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    // REPEATABLE READ takes its snapshot at the first query, not at BEGIN.
    await reader.query('SELECT 1');
    return { reader, close };
  } catch (error) {
    await close();
    throw error;
  }
}
