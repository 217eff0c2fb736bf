// Which tables staging holds masked (supasync_private.masked_tables, functions
// version 39): written by every masked sync, read by the next run and by
// verify, so that neither writes, nor suggests writing, production's raw
// values over what was masked without being told to (--unmask).

/** A table staging holds masked: its masked columns, each with its rule as the plan describes it. */
export interface MaskedTable {
  schema: string;
  name: string;
  /** Column name to rule: `email (preset supabase)`. */
  columns: Record<string, string>;
  /** When the last masked run wrote it, for messages: `2026-12-07 21:40 UTC`. */
  maskedAt: string;
}

/** What staging says: `kept` false where it cannot keep them (marked by an older supasync, or unreadable to this role). */
export interface MaskedTables {
  kept: boolean;
  tables: MaskedTable[];
}

/** What a run writes: the tables it masked, and those it rewrote whole unmasked. */
export interface MaskedTableChanges {
  masked: { schema: string; name: string; columns: Record<string, string> }[];
  unmasked: { schema: string; name: string }[];
}

/** The version of supasync's functions from which staging keeps its masked tables. */
export const MASKED_TABLES_SINCE = 39;

/** A backup's record of one table (backup/manifest-schema.ts): nothing where staging keeps none. */
export function maskedRecord(masked: MaskedTables, table: { schema: string; name: string }): { masked?: Record<string, string> | null } {
  if (!masked.kept) return {};
  return { masked: masked.tables.find((mark) => mark.schema === table.schema && mark.name === table.name)?.columns ?? null };
}

/**
 * What a restore writes of the record: the tables the backup says were masked are marked before any row goes back
 * (a restore stopped part way leaves them marked, as a masked run does), and those it says held none masked are
 * unmarked once every row is back. Tables of a backup that kept no record are left as staging records them.
 */
export function restoredMaskedTables(tables: readonly { schema: string; name: string; masked?: Record<string, string> | null }[]): MaskedTableChanges {
  return {
    masked: tables.flatMap(({ schema, name, masked }) => (masked ? [{ schema, name, columns: masked }] : [])),
    unmasked: tables.flatMap(({ schema, name, masked }) => (masked === null ? [{ schema, name }] : [])),
  };
}
