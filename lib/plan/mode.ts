// How a run writes staging's tables: the user's word for it, resolved per
// table in the plan (a table's own mode from supasync.config.json wins over
// the run's). Transports see only what each table's mode asks of them.
import type { TableOptions } from '../config/file.ts';

export const SYNC_MODES = ['replace', 'upsert'] as const;

export type SyncMode = (typeof SYNC_MODES)[number];

export const SYNC_MODE_HELP: Record<SyncMode, string> = {
  replace: "staging's tables become production's",
  upsert: 'insert and update, keep staging-only rows',
};

// supasync.config.json's schema (lib/config, a layer below) lists the modes a
// table may choose: this stops compiling when the two lists differ.
const sameModes: [NonNullable<TableOptions['mode']>, SyncMode] extends [SyncMode, NonNullable<TableOptions['mode']>] ? true : never = true;
void sameModes;
