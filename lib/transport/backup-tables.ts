// What a backup learns of each staging table before saving it, on either
// path, from supasync_private.backup_tables_query (*_supasync_backup.sql),
// and where the sequences it records stand.
import type { BackedUpSequence } from '../backup/manifest.ts';
import { qualifiedName, type SequenceState, type TableRef } from '../catalog/types.ts';

export interface StagingTableState {
  schema: string;
  name: string;
  partitioned: boolean;
  /** Other tables INHERIT from it: its own rows are read ONLY it. */
  inherited: boolean;
  /** The columns staging stores: generated ones it computes again. */
  columns: string[];
  /** The primary key to page it by; null: paged by ctid. */
  key: string[] | null;
  hasRows: boolean;
  /** Its serial and identity sequences, by the column each feeds. */
  sequences: { schema: string; name: string; column: string }[];
}

/**
 * The sequences a backup reads, once its directory exists (a sequence another
 * session holds makes the run wait there, and a stop then removes the
 * directory): each table's own, then the run's.
 */
export function sequencesToRead(states: StagingTableState[], runSequences: TableRef[]): TableRef[] {
  const all = [...states.flatMap((state) => state.sequences), ...runSequences];
  return [...new Map(all.map(({ schema, name }) => [qualifiedName({ schema, name }), { schema, name }])).values()];
}

/** A table's sequences with where they stand, as its manifest entry records them. */
export function ownedWithValues(state: StagingTableState, values: SequenceState[]): BackedUpSequence[] {
  const at = new Map(values.map((value) => [qualifiedName(value), value]));
  return state.sequences.flatMap((sequence) => {
    const value = at.get(qualifiedName(sequence));
    return value ? [{ ...sequence, lastValue: value.lastValue, isCalled: value.isCalled }] : [];
  });
}

/** The run's own sequences (those it sets), for the manifest's top level. */
export function runSequenceValues(runSequences: TableRef[], values: SequenceState[]): SequenceState[] {
  const wanted = new Set(runSequences.map(qualifiedName));
  return values.filter((value) => wanted.has(qualifiedName(value)));
}
