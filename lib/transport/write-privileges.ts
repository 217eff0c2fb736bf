// The privileges a load needs on each staging table: SELECT (ON CONFLICT DO
// UPDATE reads the conflicting row), INSERT, UPDATE, and TRUNCATE where the
// table is replaced. Both transports ask staging which the writing role
// lacks and refuse in these words before anything is written: over REST a
// table it could empty but not refill would stay empty, and directly the
// run would stop midway at a bare "permission denied".
import { DatabaseError } from '../errors.ts';

export const WRITE_PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'TRUNCATE'] as const;

export interface MissingPrivileges {
  /** schema.name */
  table: string;
  privileges: string[];
}

/** Stops the run when `role` lacks what it needs on a table; TRUNCATE counts only for the tables in `replaced`. */
export function refuseMissingPrivileges(missing: MissingPrivileges[], replaced: ReadonlySet<string>, role: string, who: string): void {
  const lacking = missing
    .map(({ table, privileges }) => ({ table, privileges: privileges.filter((p) => p !== 'TRUNCATE' || replaced.has(table)) }))
    .filter(({ privileges }) => privileges.length);
  if (!lacking.length) return;
  throw new DatabaseError(
    `${who} ${role}, which may not write every table this run copies:\n` +
      lacking.map(({ table, privileges }) => `  ${table}: no ${privileges.join(', ')}`).join('\n') +
      `\nGrant it in staging's SQL editor (GRANT ${[...new Set(lacking.flatMap((l) => l.privileges))].join(', ')} ON <table> TO ${role};), ` +
      'or leave those tables out with --exclude. Nothing was changed.',
  );
}
