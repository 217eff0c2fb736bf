// Staging's record of the tables it holds masked (transport/masked-tables.ts),
// read and written over a connection: by a run's checks, its backup (which
// keeps the record of the tables it saves) and a restore (which puts it back).
import type pg from 'pg';
import { runShared } from '../../sql/shared.ts';
import type { MaskedTable, MaskedTableChanges, MaskedTables } from '../masked-tables.ts';
import { privateTable } from './private-table.ts';

export async function readMaskedTablesPostgres(client: pg.ClientBase): Promise<MaskedTables> {
  // A staging marked before functions version 39 has no such table, and a role that may not read it cannot say.
  const { present, readable } = await privateTable(client, 'masked_tables');
  if (!present || !readable) return { kept: false, tables: [] };
  return { kept: true, tables: await runShared<MaskedTable[]>(client, 'read_masked_tables', []) };
}

export async function setMaskedTablesPostgres(client: pg.ClientBase, changes: MaskedTableChanges): Promise<void> {
  if (changes.masked.length || changes.unmasked.length)
    await runShared(client, 'set_masked_tables', [JSON.stringify(changes.masked), JSON.stringify(changes.unmasked)]);
}
