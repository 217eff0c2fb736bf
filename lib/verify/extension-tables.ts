// An extension's tables are the extension's to make and fill, and supasync
// copies none. But some hold rows of the app's too: those the condition
// pg_extension_config_dump gave picks (a PostGIS project's own
// spatial_ref_sys entries), which pg_dump copies. Staging without them is
// not production (a geometry in an SRID staging lacks cannot be
// transformed there): sync says so before writing, verify compares them.
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import { countOf } from '../counts.ts';
import type { DatabaseReads, ExtensionRows } from '../transport/reads.ts';

export interface ExtensionTableVerdict {
  table: string;
  extension: string;
  /** The app's rows on each side; staging null where it has no such configuration table. */
  production: number;
  staging: number | null;
  equal: boolean;
}

/**
 * The app's rows in each such table, compared; empty where either side cannot say (older REST functions), or cannot
 * read one (a table its role may not read), which is said through `say`: a comparison besides the run's, never its stop.
 */
export async function compareExtensionTables(
  production: Pick<DatabaseReads, 'extensionRows'>,
  staging: Pick<DatabaseReads, 'extensionRows'>,
  tables: readonly (TableRef & { extension: string })[],
  say: (line: string) => void,
): Promise<ExtensionTableVerdict[]> {
  try {
    return await compareRows(production, staging, tables, say);
  } catch (error) {
    say(`the rows the app added to extension tables (${tables.map(qualifiedName).join(', ')}) could not be compared: ${(error as Error).message}`);
    return [];
  }
}

async function compareRows(
  production: Pick<DatabaseReads, 'extensionRows'>,
  staging: Pick<DatabaseReads, 'extensionRows'>,
  tables: readonly (TableRef & { extension: string })[],
  say: (line: string) => void,
): Promise<ExtensionTableVerdict[]> {
  if (!tables.length) return [];
  const [ours, theirs] = await Promise.all([production.extensionRows([...tables]), staging.extensionRows([...tables])]);
  if (!ours || !theirs) return [];
  const find = (rows: ExtensionRows[], table: TableRef) => rows.find((row) => row.schema === table.schema && row.name === table.name);
  return tables.flatMap((table) => {
    const [p, s] = [find(ours, table), find(theirs, table)];
    if (p?.rows === null || s?.rows === null) {
      say(
        `${qualifiedName(table)} (the extension ${table.extension}'s): the rows the app added to it were not compared, as ${p?.rows === null ? 'production' : 'staging'}'s role may not read it.`,
      );
      return [];
    }
    const productionRows = p?.rows ?? 0;
    return [
      {
        table: qualifiedName(table),
        extension: table.extension,
        production: productionRows,
        staging: s ? s.rows : null,
        equal: s ? s.rows === productionRows && s.hash === (p?.hash ?? '') : productionRows === 0,
      },
    ];
  });
}

/** What differs, in words: the table, its extension, both counts, and what to do (supasync writes no extension's table). */
export function describeExtensionTable(verdict: ExtensionTableVerdict): string {
  const staging = verdict.staging === null ? `staging has no such table of ${verdict.extension}'s` : `staging ${countOf(verdict.staging, 'row')}`;
  return (
    `${verdict.table} belongs to the extension ${verdict.extension}, and the rows the app added to it (those pg_dump copies) differ: ` +
    `production ${countOf(verdict.production, 'row')}, ${staging}. supasync copies no extension's table: ` +
    "add them to staging as production's were added (the migration or seed that inserted them), or by hand."
  );
}
