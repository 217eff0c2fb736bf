// Over REST every batch commits on its own, and the rows staging rejects
// (a unique value another row holds, a CHECK) do not stop the rest. A row
// naming one of them would then point nowhere: a parent production gave a
// new key whose unique email staging's old row still holds is refused, and
// its children, written with the new key, name a user staging lacks (with
// foreign-key checks off nothing stops them; with checks on staging refuses
// each). So a row that names, along one of staging's foreign keys, a row
// staging rejected in this run and does not hold under that key, is held
// back: named with the row it waits for, and written by a run once its
// parent goes in. Staging keeps its own version of the row meanwhile.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { ForeignKeyLink } from '../../catalog/links.ts';
import { qualifiedName } from '../../catalog/types.ts';
import type { TableLoad } from '../load.ts';
import type { RejectedRow } from '../session.ts';
import { ANSWERS } from './answers.ts';
import { callRpc, RpcFailure, type OnRetry } from './rpc.ts';
import type { Row } from './row-size.ts';
import { describeKey } from './rows.ts';

/** What holds a row back: the parent row it names, as a message says it. */
export type HoldBack = (row: Row) => string | null;

export class RefusedRows {
  /** Per table, its rows staging rejected or that were held back, in its columns' order. */
  private readonly byTable = new Map<string, { columns: string[]; rows: Row[] }>();

  constructor(
    private readonly staging: SupabaseClient,
    private readonly links: ForeignKeyLink[],
  ) {}

  /** Tables being written now: with foreign-key checks off the engine writes a parent and its children at once, and a child waits to hear which of its parent's rows did not go in. */
  private readonly inProgress = new Map<string, Promise<unknown>>();

  writing(table: TableLoad, copying: Promise<unknown>): void {
    const name = qualifiedName(table.table);
    const settled = copying.then(
      () => undefined,
      () => undefined,
    );
    this.inProgress.set(name, settled);
    void settled.then(() => {
      if (this.inProgress.get(name) === settled) this.inProgress.delete(name);
    });
  }

  /** Rows of `table` that did not go in: the rows naming them wait for them. */
  record(table: TableLoad, rows: Row[]): void {
    if (!rows.length) return;
    const name = qualifiedName(table.table);
    const known = this.byTable.get(name) ?? { columns: table.columns, rows: [] };
    known.rows.push(...rows);
    this.byTable.set(name, known);
  }

  /** For a table about to be written: which of its rows name a refused row staging lacks; null when none may. */
  async holdBackFor(table: TableLoad, onRetry: OnRetry): Promise<HoldBack | null> {
    const checks: { link: ForeignKeyLink; at: number[]; waiting: Set<string> }[] = [];
    const name = qualifiedName(table.table);
    // A table naming itself is written in one pass of its own (self-references.ts): it waits for none of its rows.
    // Along a key added NOT VALID too: it holds new rows to it, as the ones written here are.
    const parents = this.links.filter((link) => qualifiedName(link.child) === name && qualifiedName(link.parent) !== name);
    await Promise.all(parents.map((link) => this.inProgress.get(qualifiedName(link.parent))));
    for (const link of parents) {
      const parent = this.byTable.get(qualifiedName(link.parent));
      const at = link.columns.map((column) => table.columns.indexOf(column));
      const from = link.parentColumns.map((column) => parent?.columns.indexOf(column) ?? -1);
      if (!parent || at.includes(-1) || from.includes(-1)) continue;
      // Under MATCH SIMPLE a key with a NULL in it names no row.
      const named = unique(parent.rows.map((row) => from.map((index) => row[index] ?? null)).filter((values) => !values.includes(null)));
      if (!named.length) continue;
      const lacked = await this.lackedByStaging(link, named, onRetry);
      if (lacked.length) checks.push({ link, at, waiting: new Set(lacked.map((values) => JSON.stringify(values))) });
    }
    if (!checks.length) return null;
    return (row) => {
      for (const { link, at, waiting } of checks) {
        const values = at.map((index) => row[index] ?? null);
        if (values.includes(null) || !waiting.has(JSON.stringify(values))) continue;
        return `${qualifiedName(link.parent)} (${link.parentColumns.map((column, i) => `${column}=${String(values[i])}`).join(', ')})`;
      }
      return null;
    };
  }

  /** Of the parent keys, those staging holds no row under (asked as supasync_missing_keys asks); all of them where staging's functions cannot say. */
  private async lackedByStaging(link: ForeignKeyLink, named: unknown[][], onRetry: OnRetry): Promise<unknown[][]> {
    const args = {
      table_schema: link.parentRelation.schema,
      table_name: link.parentRelation.name,
      columns: link.parentColumns,
      keys: named.map((values) => values.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)))),
      row_filter: null,
    };
    try {
      const positions = await callRpc(this.staging, 'supasync_missing_keys', args, { onRetry, answer: ANSWERS.missingKeys });
      return positions.map((position) => named[position] as unknown[]);
    } catch (error) {
      if (error instanceof RpcFailure && error.kind === 'fatal') return named;
      throw error;
    }
  }
}

/** A row held back, as the run's rejected rows name it. */
export function heldBackRow(table: TableLoad, row: Row, waitsFor: string): RejectedRow {
  return {
    table: qualifiedName(table.table),
    key: describeKey(table, row),
    message: `held back: it names ${waitsFor}, a row staging rejected in this run and does not hold; it goes in with that row, once staging takes it`,
    heldBack: true,
  };
}

function unique(keys: unknown[][]): unknown[][] {
  return [...new Map(keys.map((values) => [JSON.stringify(values), values])).values()];
}
