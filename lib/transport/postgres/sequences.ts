// Sequences over a direct connection: where they stand, and setting them.
// Over REST the same is supasync_sequence_values and supasync_set_sequences.
import type pg from 'pg';
import type { SequenceState, TableRef } from '../../catalog/types.ts';
import { quoteTable } from '../../sql/ident.ts';

/**
 * Read from the sequence itself: pg_sequences shows NULL for one not yet
 * called, which loses a setval(..., false). Names that are no sequence here
 * are left out, as the RPC does.
 */
export async function sequenceValuesPostgres(client: pg.ClientBase, sequences: TableRef[]): Promise<SequenceState[]> {
  if (!sequences.length) return [];
  const { rows: present } = await client.query<TableRef>(
    `SELECT n.nspname AS schema, c.relname AS name
     FROM unnest($1::text[], $2::text[]) AS wanted(schema_name, sequence_name)
     JOIN pg_catalog.pg_namespace n ON n.nspname = wanted.schema_name
     JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = wanted.sequence_name AND c.relkind = 'S'`,
    [sequences.map((s) => s.schema), sequences.map((s) => s.name)],
  );
  if (!present.length) return [];
  // One statement for all of them: each is a round trip to a remote project.
  const { rows } = await client.query<SequenceState>(
    present
      .map((s, i) => `SELECT $${2 * i + 1}::text AS schema, $${2 * i + 2}::text AS name, last_value::text AS "lastValue", is_called AS "isCalled" FROM ${quoteTable(s)}`)
      .join('\nUNION ALL '),
    present.flatMap((s) => [s.schema, s.name]),
  );
  return rows;
}

/** Each sequence to the value given, in the caller's transaction. */
export async function setSequencesPostgres(client: pg.ClientBase, states: SequenceState[]): Promise<void> {
  if (!states.length) return;
  await client.query(
    `SELECT pg_catalog.setval(pg_catalog.format('%I.%I', s.schema_name, s.sequence_name)::regclass, s.last_value, s.is_called)
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[]) AS s(schema_name, sequence_name, last_value, is_called)`,
    [states.map((s) => s.schema), states.map((s) => s.name), states.map((s) => s.lastValue), states.map((s) => s.isCalled)],
  );
}
