// What the backup tests share: a staging that lived a life of its own since
// its last sync, its sequences, and the line a replace prints about its backup.
import { query, SYNCED_SCHEMAS } from './content.ts';

/** Staging's own life: an edit, deletions, ids handed out, a sign-in (Auth's sign-in state is emptied with auth.users). */
export const STAGING_LIFE = `
  UPDATE public.hotels SET name = name || ' (staging)' WHERE id = (SELECT id FROM public.hotels ORDER BY id LIMIT 1);
  DELETE FROM public.booking_notes WHERE id IN (SELECT id FROM public.booking_notes ORDER BY id LIMIT 3);
  INSERT INTO public.code_embeddings (file_path, chunk_index, embedding) VALUES ('staging-only.ts', 0, '{0.5,-0}');
  INSERT INTO auth.sessions (id, user_id, aal, ip, user_agent)
    SELECT '00000000-0000-4000-8000-00000000abcd', id, 'aal1', '10.0.0.1', 'staging browser' FROM auth.users ORDER BY id LIMIT 1;
  INSERT INTO auth.refresh_tokens (token, user_id, session_id) VALUES ('staging-token', 'u', '00000000-0000-4000-8000-00000000abcd');`;

export const sequenceValues = (adminUrl: string) =>
  query<{ name: string; last_value: string | null }>(
    adminUrl,
    `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text FROM pg_catalog.pg_sequences
     WHERE schemaname = ANY($1) ORDER BY 1`,
    [SYNCED_SCHEMAS],
  );

/** "Backup of N staging tables (R rows): <dir> — restore with ...": the figures and the directory, or null. */
export function backupLine(stdout: string): { tables: number; rows: number; directory: string; restoreArgument: string } | null {
  const line = /Backup of (\d+) staging tables \(([\d,]+) rows\): (\.supasync\/backups\/\S+) — restore with npx tsx scripts\/restore-staging\.ts (\S+)/.exec(stdout);
  if (!line) return null;
  const [, tables, rows, directory, restoreArgument] = line as unknown as [string, string, string, string, string];
  return { tables: Number(tables), rows: Number(rows.replace(/,/g, '')), directory, restoreArgument };
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
