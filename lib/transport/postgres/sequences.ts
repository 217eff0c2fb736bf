// Sequences over a direct connection: where they stand, and setting them,
// with the queries supasync_sequence_values and supasync_set_sequences run
// over REST (supasync_private.sequence_values_query and set_sequences).
import type pg from 'pg';
import type { SequenceFloor, SequenceState, TableRef } from '../../catalog/types.ts';
import { runBuilt, runShared } from '../../sql/shared.ts';

/**
 * Read from the sequence itself: pg_sequences shows NULL for one not yet
 * called, which loses a setval(..., false). Names that are no sequence here
 * are left out.
 */
export async function sequenceValuesPostgres(client: pg.ClientBase, sequences: TableRef[]): Promise<SequenceState[]> {
  if (!sequences.length) return [];
  return runBuilt<SequenceState[]>(client, 'sequence_values_query', [JSON.stringify(sequences.map(({ schema, name }) => ({ schema, name })))]);
}

/** Each sequence to the value given, in the caller's transaction; one staging lacks (`create`) made first; then each floor. */
export async function setSequencesPostgres(client: pg.ClientBase, states: SequenceState[], floors: SequenceFloor[] = []): Promise<void> {
  if (states.length) {
    const created = await runShared<string | null>(client, 'create_sequences_query', [JSON.stringify(states)]);
    if (created) await client.query(created);
    await runShared(client, 'set_sequences', [JSON.stringify(states)]);
  }
  if (!floors.length) return;
  const raised = await runShared<string | null>(client, 'sequence_floors_query', [JSON.stringify(floors)]);
  if (raised) await client.query(raised);
}
