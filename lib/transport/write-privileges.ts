// The privileges a load needs on each staging table: SELECT (ON CONFLICT DO
// UPDATE reads the conflicting row), INSERT, UPDATE (each on the whole table
// or on every column it writes), TRUNCATE where the table is replaced, and
// UPDATE on the sequences its columns draw from, set after the rows. Both
// transports ask staging which the writing role lacks
// (supasync_private.missing_privileges) and refuse in these words before
// anything is written: over REST a table it could empty but not refill would
// stay empty, and directly the run would stop midway at a bare "permission
// denied".
import { qualifiedName } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import { quoteIdent } from '../sql/ident.ts';
import type { TableLoad } from './load.ts';

/** What supasync_private.missing_privileges answers for one table, or one sequence its columns draw from. */
export interface MissingPrivileges {
  schema: string;
  name: string;
  privileges: string[];
  /** A sequence the run sets after the rows (absent from functions before version 20). */
  sequence?: boolean;
}

/** Stops the run when `role` lacks what it needs on a table it loads; TRUNCATE counts only for those it replaces. */
export function refuseMissingPrivileges(missing: MissingPrivileges[], tables: Pick<TableLoad, 'table' | 'mode'>[], role: string, who: string): void {
  const replaced = new Set(tables.filter((table) => table.mode === 'replace').map((table) => qualifiedName(table.table)));
  const lacking = missing
    .filter((table) => !table.sequence)
    .map((table) => ({ table: qualifiedName(table), privileges: table.privileges }))
    .map(({ table, privileges }) => ({ table, privileges: privileges.filter((p) => p !== 'TRUNCATE' || replaced.has(table)) }))
    .filter(({ privileges }) => privileges.length);
  const sequences = missing.filter((sequence) => sequence.sequence).map((sequence) => `${quoteIdent(sequence.schema)}.${quoteIdent(sequence.name)}`);
  if (!lacking.length && !sequences.length) return;
  const grants = [
    ...(lacking.length ? [`GRANT ${[...new Set(lacking.flatMap((l) => l.privileges))].join(', ')} ON <table> TO ${role};`] : []),
    ...sequences.map((sequence) => `GRANT UPDATE ON SEQUENCE ${sequence} TO ${role};`),
  ];
  throw new DatabaseError(
    `${who} ${role}, which may not write every table this run copies:\n` +
      [
        ...lacking.map(({ table, privileges }) => `  ${table}: no ${privileges.join(', ')}`),
        ...(sequences.length ? [`  sequences the copied tables draw from, set after the rows: no UPDATE on ${sequences.join(', ')}`] : []),
      ].join('\n') +
      `\nGrant it in staging's SQL editor (${grants.join(' ')}), ` +
      'or leave those tables out with --exclude. Nothing was changed.',
  );
}
