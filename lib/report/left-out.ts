// A schema-wide run leaves some tables out (a migration tool's record, a job
// queue, Auth's sign-in state): the dry run says why, table by table. A run
// and a verify name them too, or "Synced 27 tables" and "27 of 27 Perfect"
// read as if the schema's every table were there.
import chalk from 'chalk';
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import type { LeftOutTable } from '../plan/supabase.ts';
import { commandLine } from '../invocation.ts';

/** One line naming the tables left out, or none; `what` is what the run did to the others ("copied", "compared"). */
export function leftOutLine(leftOut: readonly LeftOutTable[], what: string): string[] {
  if (!leftOut.length) return [];
  const excluded = leftOut.filter((table) => table.excluded).map(({ table }) => qualifiedName(table));
  const onRequest = leftOut.filter((table) => table.onRequest).map(({ table }) => qualifiedName(table));
  const never = leftOut.filter((table) => !table.onRequest && !table.excluded).map(({ table }) => qualifiedName(table));
  return [
    chalk.dim(
      `Not ${what}: ` +
        [
          ...(excluded.length ? [`${excluded.join(', ')} (excluded)`] : []),
          ...(onRequest.length ? [`${onRequest.join(', ')} (only when named with --tables)`] : []),
          ...(never.length ? [`${never.join(', ')} (never copied)`] : []),
        ].join('; ') +
        `. ${commandLine('sync', '--dry-run')} says why.`,
    ),
  ];
}

/** Staging's tables of the selected schemas that production lacks (dropped there, or a migration staging has ahead): not compared, and said so. */
export function stagingOnlyLine(tables: readonly (TableRef & { inherits?: string })[]): string[] {
  if (!tables.length) return [];
  const inheriting = tables.filter((table) => table.inherits);
  return [
    chalk.dim(`Only in staging, not compared: ${tables.map(qualifiedName).join(', ')} (production has no such table).`),
    // Compared ONLY its own rows, the parent is Perfect; the app's queries of it read the child's too.
    ...inheriting.map((table) =>
      chalk.yellow(
        `${qualifiedName(table)} INHERITS from ${table.inherits} in staging alone: a query of ${table.inherits} there reads its rows too, ` +
          `which production's does not (${table.inherits} is compared by its own rows).`,
      ),
    ),
  ];
}
