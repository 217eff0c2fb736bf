// What the backup tests share: a staging that lived a life of its own since
// its last sync, its sequences, and the line a replace prints about its backup.
import { expect } from 'vitest';
import { query, syncedDigests, SYNCED_SCHEMAS, type Digests } from './content.ts';
import type { ScriptResult } from './run-script.ts';

/** Staging's own life: an edit, deletions, ids handed out, a sign-in (Auth's sign-in state is emptied with auth.users). */
export const STAGING_LIFE = `
  UPDATE public.hotels SET name = name || ' (staging)' WHERE id = (SELECT id FROM public.hotels ORDER BY id LIMIT 1);
  DELETE FROM public.booking_notes WHERE id IN (SELECT id FROM public.booking_notes ORDER BY id LIMIT 3);
  INSERT INTO public.code_embeddings (file_path, chunk_index, embedding) VALUES ('staging-only.ts', 0, '{0.5,-0}');
  INSERT INTO auth.sessions (id, user_id, aal, ip, user_agent)
    SELECT '00000000-0000-4000-8000-00000000abcd', id, 'aal1', '10.0.0.1', 'staging browser' FROM auth.users ORDER BY id LIMIT 1;
  INSERT INTO auth.refresh_tokens (token, user_id, session_id) VALUES ('staging-token', 'u', '00000000-0000-4000-8000-00000000abcd');`;

/**
 * Staging's own guest_reservations since its last sync: one edited and one
 * deleted (an upsert writes production's back), one only staging has (an
 * upsert keeps it). chat_conversations, booking_notes and invoices reference the table.
 */
export const UPSERT_LIFE = `
  UPDATE public.guest_reservations SET guest_name = 'edited in staging', total_price = 1.50
    WHERE id = (SELECT id FROM public.guest_reservations ORDER BY id LIMIT 1);
  DELETE FROM public.guest_reservations g WHERE id = (SELECT id FROM public.guest_reservations r
    WHERE NOT EXISTS (SELECT FROM public.chat_conversations c WHERE c.reservation_id = r.id)
      AND NOT EXISTS (SELECT FROM public.booking_notes n WHERE n.reservation_id = r.id)
      AND NOT EXISTS (SELECT FROM public.invoices i WHERE i.reservation_id = r.id) ORDER BY id DESC LIMIT 1);
  INSERT INTO public.guest_reservations (id, guest_name, check_in) VALUES ('00000000-0000-4000-8000-00000000beef', 'staging only', '2026-01-01');`;

export const sequenceValues = (adminUrl: string) =>
  query<{ name: string; last_value: string | null }>(
    adminUrl,
    `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text FROM pg_catalog.pg_sequences
     WHERE schemaname = ANY($1) ORDER BY 1`,
    [SYNCED_SCHEMAS],
  );

/** "Backup of N staging tables (R rows) before the replace: <dir> — restore with ...": the figures, what it preceded and the directory, or null. */
export function backupLine(stdout: string): { tables: number; rows: number; before: string; directory: string; restoreArgument: string } | null {
  const line =
    /Backup of (\d+) staging tables? \(([\d,]+) rows?\) before ([^:]+): (\.supasync\/backups\/\S+) — restore with npx tsx scripts\/restore-staging\.ts (\S+)/.exec(
      stdout,
    );
  if (!line) return null;
  const [, tables, rows, before, directory, restoreArgument] = line as unknown as [string, string, string, string, string, string];
  return { tables: Number(tables), rows: Number(rows.replace(/,/g, '')), before, directory, restoreArgument };
}

/** A manifest's tables named as the digests name them: quoted where PostgreSQL would quote (public."order"). */
export async function digestNames(adminUrl: string, tables: { schema: string; name: string }[]): Promise<string[]> {
  const rows = await query<{ name: string }>(
    adminUrl,
    `SELECT format('%I.%I', s, n) AS name FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(s, n, i) ORDER BY i`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return rows.map((row) => row.name);
}

/**
 * Staging's own guest_reservations (UPSERT_LIFE), an upsert of the table,
 * then the backup it took restored: staging must be back exactly as before
 * the upsert, the rows it overwrote rewritten and the ones it inserted gone.
 * chat_conversations and booking_notes reference the table, so the restore
 * cannot simply TRUNCATE it.
 */
export async function upsertThenRestore(run: {
  stagingUrl: string;
  everyTable: () => Promise<Digests>;
  upsert: () => Promise<ScriptResult>;
  restore: (directory: string) => Promise<ScriptResult>;
}): Promise<void> {
  await query(run.stagingUrl, UPSERT_LIFE);
  const beforeUpsert = await run.everyTable();
  const result = await run.upsert();
  expect(result.code, result.stderr).toBe(0);
  const line = backupLine(result.stdout);
  expect(line, result.stdout).toMatchObject({ tables: 1, rows: beforeUpsert['public.guest_reservations']?.rows, before: 'the upsert' });
  expect(await run.everyTable()).not.toEqual(beforeUpsert);
  const restored = await run.restore(line?.directory as string);
  expect(restored.code, restored.stderr).toBe(0);
  expect(await run.everyTable()).toEqual(beforeUpsert);
}

/**
 * A restore into staging marked again since the backup (as if dropped and
 * made again under its name, or another local project at its address) is
 * refused, and changes nothing; the mark is put back after.
 */
export async function refusedUnderAnotherMark(staging: { adminUrl: string }, restore: () => Promise<{ code: number; stderr: string }>): Promise<void> {
  const before = await syncedDigests(staging.adminUrl);
  await query(staging.adminUrl, `UPDATE supasync_private.sync_target SET marked_at = marked_at - interval '1 day', marked_by = 'made again'`);
  try {
    const result = await restore();
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('the database there now carries another mark (set ');
    expect(result.stderr).toContain("refusing to write one database's rows into another. Nothing was changed.");
    expect(await syncedDigests(staging.adminUrl)).toEqual(before);
  } finally {
    await query(staging.adminUrl, `UPDATE supasync_private.sync_target SET marked_at = marked_at + interval '1 day', marked_by = 'supasync test stack'`);
  }
}
