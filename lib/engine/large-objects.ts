// A sync copies an `oid` column's numbers, not the large objects they name
// (pg_largeobject lives outside the tables, and supasync does not copy it):
// said before writing, per column, with what to do, so a staging whose rows
// name objects it lacks, or holds otherwise, is never a surprise. Verify
// compares them where it can read them (verify/large-objects.ts).
import { countOf } from '../counts.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import { largeObjectsNamed } from '../verify/large-objects.ts';

export async function warnOfLargeObjects(production: Database, tables: TablePlan[], warn: (line: string) => void): Promise<void> {
  for (const { table, column, oids } of await largeObjectsNamed(production, tables)) {
    warn(
      `${table}.${column} names ${countOf(oids.length, 'large object')} of production's (pg_largeobject, e.g. ${oids.slice(0, 3).join(', ')}): ` +
        "a sync copies the column's numbers, not the objects, so staging's rows name objects staging lacks or holds otherwise. " +
        'Copy them yourself (in production `SELECT lo_get(<oid>)`, in staging `SELECT lo_from_bytea(<oid>, <bytes>)`, after `lo_unlink(<oid>)` ' +
        'where staging holds one), or keep such files in a bytea column or Supabase Storage; verify over the direct path compares them.',
    );
  }
}
