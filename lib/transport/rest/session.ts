// Writing staging over REST. PostgREST runs every request in its own
// transaction, so a REST run cannot be all-or-nothing: each batch commits.
// What keeps that safe is that every batch is an idempotent upsert (a retry
// or a second run converges), and that an interrupted run says which tables
// are complete.
import type { SupabaseClient } from '@supabase/supabase-js';
import { qualifiedName, type TableRef } from '../../catalog/types.ts';
import { DatabaseError } from '../../errors.ts';
import type { SyncPlan, TablePlan } from '../../plan/plan.ts';
import { modeOf, type LoadMethod, type SessionOptions, type SyncSession, type TableCopy } from '../session.ts';
import { callRpc, describeFailure, RpcFailure } from './rpc.ts';
import { readPages, writeRows, type Row, type WriteOutcome } from './rows.ts';

export async function openRestSession(
  clients: { production: SupabaseClient; staging: SupabaseClient },
  plan: SyncPlan,
  options: SessionOptions,
): Promise<SyncSession> {
  const replica = await callRpc<boolean>(clients.staging, 'supasync_can_disable_checks', {}).catch((error: unknown) => {
    throw explainSetupFailure(error);
  });
  const method: LoadMethod = replica
    ? { kind: 'replica', warnings: [] }
    : {
        kind: 'foreign-key order',
        warnings: [
          "staging's supasync functions may not SET session_replication_role: loading in foreign-key order, with user triggers disabled around each batch.",
        ],
      };
  if (!replica) {
    const together = [...plan.cycles.flatMap((c) => c.tables), ...plan.selfReferences.map((s) => s.table)].map(qualifiedName);
    if (together.length) {
      throw new DatabaseError(
        `${[...new Set(together)].join(', ')} reference themselves or each other, and over REST each batch is checked on its own, ` +
          "so they need foreign-key checks off: the owner of staging's supasync functions must be allowed to SET session_replication_role " +
          '(on Supabase, install them as postgres; on PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <owner>), or leave those tables out with --exclude.',
      );
    }
  }
  return new RestSession(clients.production, clients.staging, method, options);
}

function explainSetupFailure(error: unknown): Error {
  if (!(error instanceof RpcFailure)) return error as Error;
  if (error.code === 'PGRST202') {
    return new DatabaseError(
      "staging lacks supasync's write functions: install supabase/migrations/*_supasync_write.sql there (npx tsx scripts/install-rpcs.ts --staging), or sync over the direct path.",
    );
  }
  return new DatabaseError(`staging refused supasync's write functions: ${describeFailure(error)}`);
}

const WRITES_IN_FLIGHT = 3;

class RestSession implements SyncSession {
  readonly atomic = false;
  readonly parallelTables = 3;
  retries = 0;

  constructor(
    private readonly production: SupabaseClient,
    private readonly staging: SupabaseClient,
    readonly method: LoadMethod,
    private readonly options: SessionOptions,
  ) {}

  async prepare(tables: TablePlan[], alsoEmptied: TableRef[]): Promise<void> {
    for (const table of tables) {
      if (!table.key && table.partitioned) {
        throw new DatabaseError(
          `${qualifiedName(table.table)} is partitioned and has no key: over REST it cannot be read page by page. Sync it over the direct path, or give it a primary key.`,
        );
      }
    }
    const replaced = tables.filter((table) => modeOf(table, this.options.mode) === 'replace');
    if (replaced.length) {
      await callRpc(this.staging, 'supasync_truncate', { tables: [...replaced.map((t) => t.table), ...alsoEmptied] }).catch((error: unknown) => {
        if (error instanceof RpcFailure && error.code === '0A000') {
          throw new DatabaseError(
            `Replacing these tables would leave rows pointing nowhere: ${error.details ?? error.message} ` +
              "Add the referencing table to the run (--tables, or its schema to --schemas), or keep staging's rows with --mode upsert. Nothing was changed.",
          );
        }
        throw error;
      });
    }
  }

  /**
   * Pages are read one ahead and written three at a time: while staging parses
   * one batch the next is already on the wire, so the upload link, the usual
   * limit to a remote project, never waits on the server.
   */
  async copyTable(table: TablePlan, onRows: (rows: number) => void): Promise<TableCopy> {
    const onRetry = () => {
      this.retries++;
    };
    const copy: TableCopy = { rows: 0, changed: 0, rejected: [] };
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const write = (page: Row[]) =>
      table.key ? writeRows(this.staging, table, page, { strict: this.options.strict, onRetry }) : this.writeKeyless(table, page, onRetry);
    for await (const page of readPages(this.production, table, onRetry)) {
      const written: Promise<void> = write(page)
        .then(
          (outcome) => {
            copy.rows += page.length;
            copy.changed += outcome.written;
            copy.rejected.push(...outcome.rejected);
            onRows(copy.rows);
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => inFlight.delete(written));
      inFlight.add(written);
      if (inFlight.size >= (table.key ? WRITES_IN_FLIGHT : 1)) await Promise.race(inFlight);
      if (failure) break;
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    return copy;
  }

  /**
   * A table without a key is written with plain inserts, so a batch repeated
   * after a lost answer would repeat its rows. Its batches go one at a time,
   * and when one fails in a way that leaves its fate unknown, staging's row
   * count says whether it landed before it is sent again.
   */
  private async writeKeyless(table: TablePlan, rows: Row[], onRetry: () => void): Promise<WriteOutcome> {
    const count = () =>
      callRpc<number>(this.staging, 'supasync_count_rows', { table_schema: table.table.schema, table_name: table.table.name }, { onRetry }).then(Number);
    const before = await count();
    for (let attempt = 1; ; attempt++) {
      try {
        return await writeRows(this.staging, table, rows, { strict: this.options.strict, onRetry, retries: 0 });
      } catch (error) {
        if (!(error instanceof RpcFailure) || error.kind !== 'transient' || attempt > 6) throw error;
        onRetry();
        const now = await count();
        if (now === before + rows.length) return { written: rows.length, replica: this.method.kind === 'replica', rejected: [] };
        if (now !== before) {
          throw new DatabaseError(
            `${qualifiedName(table.table)} has no key, and a batch whose answer was lost landed in part (${now - before} of ${rows.length} rows): run the sync again (replace mode empties it first).`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      }
    }
  }

  async finish(tables: TablePlan[]): Promise<void> {
    await callRpc(this.staging, 'supasync_reset_sequences', { tables: tables.map((t) => t.table) });
  }

  async abort(): Promise<void> {}
}
