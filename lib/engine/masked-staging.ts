// A masked sync leaves staging holding masked values, and staging keeps which
// (transport/masked-tables.ts). A later run that does not mask those columns
// (the preset left off the command line, a rule taken out of the config)
// would write production's raw values over them: refused before anything is
// written, unless told --unmask. And what a run writes is kept for the next.
import { qualifiedName } from '../catalog/types.ts';
import { DatabaseError } from '../errors.ts';
import { describeRule } from '../mask/types.ts';
import type { SyncMode } from '../plan/mode.ts';
import type { TablePlan } from '../plan/types.ts';
import type { DatabaseReads } from '../transport/reads.ts';
import type { MaskedTable, MaskedTableChanges } from '../transport/masked-tables.ts';
import { commandLine } from '../invocation.ts';
import { foundEqual, type TableVerdict } from '../verify/verdict.ts';

/** The columns a run masks in the table (a `keep` rule leaves a column as it is), each with its rule as the plan says it. */
export function maskedColumns(table: Pick<TablePlan, 'mask'>): Record<string, string> {
  // Without a prototype: a column may be called __proto__ or constructor.
  const columns: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const column of table.mask?.columns ?? []) {
    const rules = column.rules.filter(({ rule }) => rule.transformer !== 'keep');
    if (rules.length)
      columns[column.column] = rules.map(({ path, rule }) => `${[column.column, ...path].join('.')}: ${describeRule(rule)} (${rule.origin})`).join('; ');
  }
  return columns;
}

/** Modes that leave staging's older rows of a table as they were: written unmasked, those rows stay masked. */
const WRITES_SOME_ROWS: readonly SyncMode[] = ['insert-missing', 'incremental'];

/**
 * What the run keeps of the tables it writes: those it masks (a masked table is replaced or upserted: every
 * production row rewritten, plan/mask.ts), and those it rewrites whole without masking.
 */
export function maskedTableChanges(tables: readonly TablePlan[]): MaskedTableChanges {
  const changes: MaskedTableChanges = { masked: [], unmasked: [] };
  for (const table of tables) {
    const { schema, name } = table.table;
    const columns = maskedColumns(table);
    if (Object.keys(columns).length) changes.masked.push({ schema, name, columns });
    else if (!WRITES_SOME_ROWS.includes(table.mode)) changes.unmasked.push({ schema, name });
  }
  return changes;
}

interface RawOverMasked {
  table: TablePlan;
  kept: MaskedTable;
  /** Columns staging holds masked that this run would write as production has them. */
  columns: string[];
}

/**
 * Refuses a run that would write production's raw values into columns staging holds masked, naming each and the
 * masking that wrote them; with --unmask says what it writes raw. Returns what the run keeps of its tables, or null
 * where staging cannot keep it (marked by an older supasync: said where the run masks something).
 */
export async function refuseRawOverMasked(
  staging: Pick<DatabaseReads, 'maskedTables'>,
  tables: readonly TablePlan[],
  unmask: boolean,
  say: (line: string) => void,
): Promise<MaskedTableChanges | null> {
  const { kept, tables: masked } = await staging.maskedTables();
  const changes = maskedTableChanges(tables);
  if (!kept) {
    if (changes.masked.length) {
      say(
        `staging cannot record that it holds ${changes.masked.map((t) => `${t.schema}.${t.name}`).join(', ')} masked (its supasync functions predate it), ` +
          `so a later run without the masking would not be stopped from writing raw values over them: update it with ${commandLine('install-rpcs', '--staging')}.`,
      );
    }
    return null;
  }
  // Only what staging marks needs unmarking: most runs then write nothing of this.
  changes.unmasked = changes.unmasked.filter((table) => masked.some((mark) => mark.schema === table.schema && mark.name === table.name));
  const found = rawOverMasked(tables, masked);
  if (!found.length) return changes;
  if (unmask) {
    for (const { table, kept: mark, columns } of found) {
      say(
        `--unmask: production's raw values are written into ${qualifiedName(table.table)}'s ${columns.join(', ')}, masked in staging by the sync of ${mark.maskedAt}.`,
      );
    }
    return changes;
  }
  throw new DatabaseError(
    [
      "Staging holds these columns masked, and this run does not mask them: it would write production's raw values over them. Nothing was written:",
      ...found.map(
        ({ table, kept: mark, columns }) =>
          `  ${qualifiedName(table.table)} (masked by the sync of ${mark.maskedAt}): ${columns.map((c) => mark.columns[c]).join('; ')}`,
      ),
      `Run it with the masking that sync used (${maskingUsed(found)}), or with --unmask to write production's raw values into staging.`,
    ].join('\n'),
  );
}

/**
 * Verify without the masking an earlier sync used finds staging's masked values differ from production's raw ones:
 * such a table's verdict says so, where the sync it would suggest is refused (or, told --unmask, writes them raw).
 */
export function withMaskedInStaging<V extends TableVerdict>(verdicts: V[], tables: readonly TablePlan[], masked: readonly MaskedTable[]): V[] {
  const found = rawOverMasked(tables, masked);
  return verdicts.map((verdict) => {
    const raw = found.find(({ table }) => qualifiedName(table.table) === verdict.table);
    if (!raw || foundEqual(verdict.status)) return verdict;
    return { ...verdict, maskedInStaging: { columns: raw.columns, maskedAt: raw.kept.maskedAt, masking: maskingUsed([raw]) } };
  });
}

function rawOverMasked(tables: readonly TablePlan[], masked: readonly MaskedTable[]): RawOverMasked[] {
  const found: RawOverMasked[] = [];
  for (const table of tables) {
    const kept = masked.find((mark) => mark.schema === table.table.schema && mark.name === table.table.name);
    if (!kept) continue;
    const maskedNow = maskedColumns(table);
    // In the table's order; a column production no longer has (or --allow-drift leaves out) is not written at all.
    const columns = table.columns.filter((column) => Object.hasOwn(kept.columns, column) && !Object.hasOwn(maskedNow, column));
    if (columns.length) found.push({ table, kept, columns });
  }
  return found;
}

/** The masking the rules kept in staging came from: the preset's flag, the config's rules, or both (a carried rule follows its parent's). */
export function maskingUsed(found: readonly { kept: MaskedTable; columns: string[] }[]): string {
  const rules = found.flatMap(({ kept, columns }) => columns.map((column) => kept.columns[column] ?? ''));
  const ways = [
    ...(rules.some((rule) => rule.includes('(preset supabase')) ? ['--mask supabase'] : []),
    ...(rules.some((rule) => rule.includes('(mask "')) ? ['the same "mask" rules in supasync.config.json'] : []),
  ];
  return `${ways.length ? ways.join(' and ') : 'the same mask rules'}, with the same SUPASYNC_MASK_SECRET`;
}
