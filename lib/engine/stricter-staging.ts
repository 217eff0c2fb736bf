// Constraints staging holds rows to and production does not (its migrations
// ahead): a CHECK production lacks, or NOT NULL where production's column
// may be NULL; and, with --allow-drift, an enum label or a partition staging
// lacks (its migrations behind: said apart, with what to add). Production's rows that break one would be refused as they are
// written: directly the run rolls back on the first, over REST every other
// row is written and the run ends part done. So production is asked for them
// by key, in the run's own query builders, before anything is written.
import { qualifiedName } from '../catalog/types.ts';
import { bothFilters } from '../catalog/partition-keys.ts';
import { countOf } from '../counts.ts';
import { DatabaseError, SupasyncError, describeError } from '../errors.ts';
import type { StricterRule } from '../plan/types.ts';
import { ROWS_COPIED } from '../plan/stricter-indexes.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';

/** Rows of production a rule breaks: how many, and a few keys. */
interface Broken {
  table: TablePlan;
  rule: StricterRule;
  rows: number;
  keys: string[];
}

/**
 * Each rule asked of production's rows (under the table's `where`). A rule
 * production cannot evaluate (a function only staging has) is said, not
 * guessed at: the load then finds out.
 */
export async function refuseStricterStaging(production: Database, tables: TablePlan[], warn: (line: string) => void): Promise<void> {
  const broken: Broken[] = [];
  const masked = tables.filter((table) => table.mask && table.stricterInStaging.length);
  for (const table of masked) {
    // Production's raw values are not what staging gets: asked of them, a rule would refuse rows the mask makes fit, or pass ones it makes break.
    warn(
      `${qualifiedName(table.table)}: staging has ${table.stricterInStaging.map((rule) => rule.rule).join(', ')}, which production lacks; ` +
        "the table is masked, so production's values cannot say whether staging takes the masked ones: staging may refuse some as they are written.",
    );
  }
  for (const [table, rule] of tables.filter((table) => !table.mask).flatMap((table) => table.stricterInStaging.map((rule) => [table, rule] as const))) {
    const named = table.key?.columns ?? table.columns.slice(0, 3);
    if (!named.length) continue;
    if (rule.notAsked) {
      warn(
        `${qualifiedName(table.table)}: staging has ${rule.rule}, which production lacks; ${rule.notAsked}, so it is not asked: staging may refuse some as they are written.`,
      );
      continue;
    }
    try {
      // A rule's own reading of the rows (a unique index's duplicates) keeps to the rows the run copies too.
      const breaking = rule.breaking.replaceAll(ROWS_COPIED, table.rowFilter === null ? 'true' : `(${table.rowFilter})`);
      const found = await production.references(table.table, named, bothFilters(table.rowFilter, breaking));
      const keys = Object.keys(found).sort();
      if (keys.length) broken.push({ table, rule, rows: keys.reduce((sum, key) => sum + (found[key] ?? 0), 0), keys: keys.slice(0, 5) });
    } catch (error) {
      if (error instanceof SupasyncError && !(error instanceof DatabaseError)) throw error;
      warn(
        `${qualifiedName(table.table)}: staging has ${rule.rule}, which production lacks, and production could not say whether its rows hold to it ` +
          `(${describeError('asking', error).split('\n')[0]}): staging may refuse some of them as they are written.`,
      );
    }
  }
  if (!broken.length) return;
  const line = ({ table, rule, rows, keys }: Broken) =>
    `  ${qualifiedName(table.table)}: ${rule.rule}: ${countOf(rows, 'row')} of production's, e.g. ${keys.join(' ')}` +
    (table.key ? '' : ` (by ${table.columns.slice(0, 3).join(', ')}: no key)`);
  const ahead = broken.filter(({ rule }) => !rule.behind);
  const behind = broken.filter(({ rule }) => rule.behind);
  throw new DatabaseError(
    [
      ...(ahead.length
        ? [
            `Staging holds rows to constraints production lacks, which production's rows break; nothing was written:`,
            ...ahead.map(line),
            'Fix those rows in production and add the constraint there too (the migration staging has ahead), relax it in staging ' +
              '(a CHECK added NOT VALID holds only new rows; a unique index or exclusion constraint is dropped), or leave the tables out with --exclude.',
          ]
        : []),
      ...(behind.length
        ? [
            `Staging lacks what production's rows need (its migrations behind production's: --allow-drift copies the common columns, not these); nothing was written:`,
            ...behind.map(line),
            ...new Set(behind.map(({ rule }) => `To copy them, ${rule.behind?.fix}`)),
            'Or leave the tables out with --exclude.',
          ]
        : []),
    ].join('\n'),
  );
}
