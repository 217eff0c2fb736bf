// One side of a sync, reached directly or over REST: one type per path,
// both answering the same questions (reads.ts). The engine, plan and verify
// ask those and never which path they hold; opening the write session
// (open-session.ts) is the one place that looks.
import { connectionOf, type SideConfig, type Via } from '../config/env.ts';
import type { PostgresDatabase } from './postgres/database.ts';
import type { RestDatabase } from './rest/database.ts';
import type { DatabaseReads } from './reads.ts';

export type Database = PostgresDatabase | RestDatabase;

/** `concurrency`: at most this many requests at once to the project over REST; the direct path holds one connection. */
export async function openDatabase(config: SideConfig, via: Via, concurrency?: number): Promise<Database> {
  const connection = connectionOf(config, via);
  if (connection.via === 'postgres') {
    const { openPostgresDatabase } = await import('./postgres/database.ts');
    return openPostgresDatabase(connection);
  }
  // supabase-js is loaded only on this path: the direct path starts faster without it.
  const { openRestDatabase } = await import('./rest/database.ts');
  return openRestDatabase(connection, concurrency);
}

/**
 * Said in the plan and the summary whenever a run reads several tables
 * without one snapshot: a production written to meanwhile gives a staging
 * that never existed as a whole, and nothing else would tell.
 */
export function snapshotNotes(production: Pick<DatabaseReads, 'oneSnapshot'>, tables: number): string[] {
  if (production.oneSnapshot || tables < 2) return [];
  return [
    'Over REST each page of rows is read in its own transaction, not from one snapshot: if production changed during the run, ' +
      'staging may hold rows that never existed together (a child copied after its parent changed, totals that do not add up). ' +
      'Where production is quiet this does not matter; where it is busy, use the direct path (SUPABASE_*_DB_URL), which reads every table at one moment.',
  ];
}
