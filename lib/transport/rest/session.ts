// Writing staging over REST. PostgREST runs every request in its own
// transaction, so a REST run cannot be all-or-nothing: each batch commits.
// What keeps that safe is that every batch is an idempotent upsert (a retry
// or a second run converges), and that an interrupted run says which tables
// are complete.
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { qualifiedName, type SequenceFloor, type SequenceState, type TableRef } from '../../catalog/types.ts';
import { CONFLICT_CODES, DatabaseError, movedValueAdvice } from '../../errors.ts';
import { describeSequenceFailure } from '../sequences.ts';
import { deletedNotTruncated, type ForeignKeyLink } from '../../catalog/links.ts';
import { askedIfEmpty, HOLDING_ROWS_PER_STATEMENT, holdingRowsArgument, updatesExisting, type LoadPlan, type TableLoad } from '../load.ts';
import type { MaskedTableChanges } from '../masked-tables.ts';
import type { Watermark } from '../watermarks.ts';
import type { RunBackup } from '../../backup/run-backup.ts';
import {
  tablesToSave,
  type LoadMethod,
  type PreparedStaging,
  type RejectedRow,
  type RetryReason,
  type SessionOptions,
  type StagingBackup,
  type SyncSession,
  type TableCopy,
  type WrittenBackup,
  type TouchedRanges,
  type ViewRefresh,
} from '../session.ts';
import type { PutBack } from '../staging-hold.ts';
import { describeClashingRows, keyText, refusedIndex } from '../clashing-rows.ts';
import { backUpTablesOverRest } from './backup.ts';
import { copyCycle } from './cycles.ts';
import { FirstPages } from './first-pages.ts';
import { WriteGroups } from './write-groups.ts';
import { chooseRestLoad, type RestLoad } from './load-method.ts';
import { ANSWERS } from './answers.ts';
import { callRpc, describeFailure, RpcFailure, type OnRetry } from './rpc.ts';
import { RetryTally } from './retry-tally.ts';
import type { Row } from './row-size.ts';
import { describeKey, readPages, refuseOlderReads, writeRows, type WriteOutcome } from './rows.ts';
import { writeKeylessRows } from './keyless-writes.ts';
import { setSelfReferences, withoutColumns } from './self-references.ts';
import { refreshViewsOverRest } from './views.ts';
import { settleEarlierWrites } from './settle-writes.ts';
import { heldBackRow, RefusedRows } from './held-back.ts';
import { maskedColumnsHint, VALUE_REFUSED } from '../../mask/apply.ts';

export async function openRestSession(
  clients: { production: SupabaseClient; staging: SupabaseClient },
  plan: LoadPlan,
  options: SessionOptions,
  stagingUrl: string,
): Promise<SyncSession> {
  // First and alone: a write check asked meanwhile would hold the lock it waits for, as a write of another run does.
  if (options.settleEarlierWrites) await settleEarlierWrites(clients.staging, options.settleEarlierWrites);
  const load = await chooseRestLoad(clients.staging, plan);
  return new RestSession(clients.production, clients.staging, load, options, stagingUrl, plan.stagingLinks);
}

const WRITES_IN_FLIGHT = 3;
/**
 * Most tables of an app are a page or two, and each waits a read and a write
 * in a row: with three at once a remote schema of small tables waited out its
 * round trips three tables at a time (32 tables through 40 ms more a request:
 * 2.2 s of copying, 1.6 s with six at once). --concurrency still caps the
 * requests in flight, so large tables only share them.
 */
const TABLES_AT_ONCE = 6;

class RestSession implements SyncSession {
  readonly atomic = false;
  readonly parallelTables: number;
  private readonly retried = new RetryTally();
  stagingMayHaveChanged = false;

  readonly method: LoadMethod;
  /** Whether staging's functions keep the rows a re-sync clears to write afresh, and put them back (version 23). */
  private readonly keepsCleared: boolean;
  /** The tables whose cleared rows staging keeps for this run. */
  private readonly keptCleared = new Set<string>();
  private readonly secondPasses: Map<string, string[]>;
  private readonly cycles: TableLoad[][];
  /** Replaced tables production held no row of when asked (askEmpty): emptied, not read. */
  private emptyInProduction = new Set<string>();
  /** One load per cycle, shared by its tables: whichever the engine starts first runs it. */
  private readonly cycleLoads = new Map<TableLoad[], Promise<Map<string, TableCopy>>>();
  /** The rows staging rejected in this run, and those held back for them: the rows naming one wait for it (held-back.ts). */
  private readonly refused: RefusedRows;
  /** Cleared rows put back as their table's copy ended, before the tables naming them ask staging for them; what putBackCleared answers. */
  private readonly putBackEarly = new Map<string, PutBack | null>();
  /** The first pages of the tables read whole, a few tables a request (first-pages.ts). */
  private firstPages: FirstPages | undefined;
  /** Small batches of several tables written in one request, where the replica role makes their order free (write-groups.ts). */
  private readonly writeGroups: WriteGroups | undefined;

  constructor(
    private readonly production: SupabaseClient,
    private readonly staging: SupabaseClient,
    load: RestLoad,
    private readonly options: SessionOptions,
    /** Recorded in a backup's manifest: a restore goes back to this project only. */
    private readonly stagingUrl: string,
    private readonly stagingLinks: ForeignKeyLink[],
  ) {
    this.method = load.method;
    this.keepsCleared = load.keepsCleared;
    // The clients cap requests in flight (--concurrency); more tables than requests would only interleave them.
    this.parallelTables = Math.min(TABLES_AT_ONCE, options.concurrency ?? TABLES_AT_ONCE);
    this.secondPasses = load.secondPasses;
    this.cycles = load.cycles;
    this.refused = new RefusedRows(staging, stagingLinks);
    this.writeGroups = load.method.kind === 'replica' ? new WriteGroups(staging, this.retried.add) : undefined;
  }

  get retries(): RetryReason[] {
    return this.retried.reasons();
  }

  /** Opening the session asked staging's functions what their owner may do (load-method.ts); what is left is the shape of the tables. */
  async refusals(tables: TableLoad[]): Promise<void> {
    for (const table of tables) {
      // The second pass sets the self-reference of every row it read, staging's own included.
      if (!updatesExisting(table.mode) && this.secondPasses.has(qualifiedName(table.table))) {
        throw new DatabaseError(
          `${qualifiedName(table.table)} references itself, and staging's functions may not turn foreign-key checks off: over REST its rows take two passes, ` +
            'the second of which would change rows staging already has. Sync it over the direct path, with --mode upsert, or install the functions as a role that may set session_replication_role (on Supabase, postgres).',
        );
      }
    }
    await refuseOlderReads(
      this.production,
      'production',
      tables.map((table) => ({ table: table.table, columns: table.columns, keyed: Boolean(table.key), partitioned: table.partitioned })),
    );
  }

  async prepare(tables: TableLoad[], alsoEmptied: TableRef[], sequences: TableRef[], touched?: ReadonlyMap<string, TouchedRanges>): Promise<PreparedStaging> {
    await this.refusals(tables);
    // Production is asked while staging is backed up: a round trip fewer before the first write. Should the question
    // fail, the run fails before emptying anything, and its backup, which then restores nothing, is removed with it.
    const askedEmpty = this.askEmpty(tables);
    askedEmpty.catch(() => undefined);
    const { emptied, upserted } = tablesToSave(tables, alsoEmptied);
    let backup: StagingBackup | null = null;
    if (this.options.backup && (emptied.length || upserted.length)) {
      backup = { ...(await this.backUp([...emptied, ...upserted], this.options.backup, sequences, touched)), upserted: upserted.length };
    }
    this.emptyInProduction = await askedEmpty;
    this.firstPages = new FirstPages(
      this.production,
      tables.filter((table) => this.readsWhole(table)),
      this.retried.add,
    );
    // Production's first rows are on their way while staging is emptied: reading them changes nothing.
    this.firstPages.readFirstGroup();
    if (emptied.length) {
      // Each request commits on its own: from the first one that writes, the backup is what staging's old rows survive in.
      this.stagingMayHaveChanged = true;
      await this.empty(emptied);
    }
    return { backup, warnings: [] };
  }

  /** A table copied from its first row in one pass: its first page may come with other tables'. */
  private readsWhole(table: TableLoad): boolean {
    const name = qualifiedName(table.table);
    return (
      (table.mode === 'replace' || table.mode === 'upsert') &&
      !this.emptyInProduction.has(name) &&
      !this.secondPasses.has(name) &&
      !this.cycles.some((cycle) => cycle.some((member) => qualifiedName(member.table) === name))
    );
  }

  /**
   * TRUNCATE refuses a table another staging table references, whatever
   * either holds: those are emptied by supasync_delete_rows, a DELETE under
   * the replica role that fires no foreign-key trigger (the engine checked
   * before writing that the referencing rows find their parents again, and
   * checks once the rows are in). Its owner must be allowed the replica role.
   */
  private async empty(emptied: TableRef[]): Promise<void> {
    const referenced = deletedNotTruncated(this.stagingLinks, emptied);
    const truncated = emptied.filter((table) => !referenced.includes(table));
    const onRetry = this.retried.add;
    if (truncated.length) {
      await callRpc(this.staging, 'supasync_truncate', { tables: truncated }, { onRetry }).catch((error: unknown) => {
        // PostgreSQL answered with an error: the request's transaction rolled back and nothing was emptied.
        if (error instanceof RpcFailure && error.kind !== 'transient') this.stagingMayHaveChanged = false;
        throw error;
      });
    }
    if (!referenced.length) return;
    await callRpc(this.staging, 'supasync_delete_rows', { tables: referenced }, { onRetry }).catch((error: unknown) => {
      if (error instanceof RpcFailure && error.kind !== 'transient' && !truncated.length) this.stagingMayHaveChanged = false;
      const names = referenced.map(qualifiedName).join(', ');
      const detail = error instanceof RpcFailure ? `${error.message}${error.hint ? ` (${error.hint})` : ''}` : (error as Error).message;
      throw new DatabaseError(
        `Emptying ${names} for the replace: other staging tables reference them, so TRUNCATE may not, and supasync_delete_rows failed: ${detail}. ` +
          "Add the referencing tables to the run (--tables, or their schema to --schemas), or keep staging's rows with --mode upsert.",
        1,
        { cause: error },
      );
    });
  }

  /**
   * Taken right before the first write but, PostgREST running each request
   * in its own transaction, not with it: a row staging gets in between is
   * not in the backup (docs/usage.md says so).
   */
  private backUp(tables: TableRef[], backup: RunBackup, sequences: TableRef[], touched?: ReadonlyMap<string, TouchedRanges>): Promise<WrittenBackup> {
    return backUpTablesOverRest(this.staging, this.stagingUrl, tables, backup, this.retried.add, sequences, touched);
  }

  /**
   * Loaded with checks on, a table that references itself takes two passes
   * (self-references.ts), and tables that reference each other go together
   * in one request (cycles.ts).
   */
  /**
   * The replaced tables production holds no row of, asked 200 to a request
   * (supasync_tables_holding_rows, version 24): each is then emptied and not
   * read, a request a table spared. Production's functions older answer
   * nothing, and every table is read. A cycle's tables load together.
   */
  private async askEmpty(tables: TableLoad[]): Promise<Set<string>> {
    const inCycles = new Set(this.cycles.flat().map((table) => qualifiedName(table.table)));
    const asked = tables.filter((table) => askedIfEmpty(table) && !inCycles.has(qualifiedName(table.table)));
    const empty = new Set<string>();
    for (let start = 0; start < asked.length; start += HOLDING_ROWS_PER_STATEMENT) {
      const chunk = asked.slice(start, start + HOLDING_ROWS_PER_STATEMENT);
      const holding = await callRpc(
        this.production,
        'supasync_tables_holding_rows',
        { tables: holdingRowsArgument(chunk) },
        { answer: z.array(z.boolean()), onRetry: this.retried.add },
      ).catch((error: unknown) => {
        if (error instanceof RpcFailure && error.code === 'PGRST202') return null;
        const detail = error instanceof RpcFailure ? describeFailure(error) : (error as Error).message;
        throw new DatabaseError(
          `Asking production which of the tables to replace hold rows (supasync_tables_holding_rows): ${detail}\nNothing was changed.`,
          1,
          {
            cause: error,
          },
        );
      });
      if (!holding) return empty;
      chunk.forEach((table, index) => {
        if (holding[index] === false) empty.add(qualifiedName(table.table));
      });
    }
    return empty;
  }

  async copyTable(table: TableLoad, onRows: (rows: number) => void): Promise<TableCopy> {
    this.stagingMayHaveChanged = true;
    if (this.emptyInProduction.has(qualifiedName(table.table))) return { rows: 0, changed: 0, rejected: [] };
    const onRetry = this.retried.add;
    const cycle = this.cycles.find((tables) => tables.some((t) => qualifiedName(t.table) === qualifiedName(table.table)));
    if (cycle) {
      let load = this.cycleLoads.get(cycle);
      if (!load) {
        load = copyCycle({ production: this.production, staging: this.staging }, cycle, onRetry, (t) => this.mask(t));
        this.cycleLoads.set(cycle, load);
      }
      const copy = (await load).get(qualifiedName(table.table)) as TableCopy;
      onRows(copy.rows);
      return copy;
    }
    const secondPass = this.secondPasses.get(qualifiedName(table.table));
    if (!secondPass) return this.copyRows(table, onRows, onRetry);
    const copy = await this.copyRows(withoutColumns(table, secondPass), onRows, onRetry);
    const set = await setSelfReferences({ production: this.production, staging: this.staging }, table, secondPass, {
      strict: this.options.strict,
      onRetry,
      mask: (columns) => this.options.masker?.forColumns(table.mask, columns, table.key?.columns) ?? null,
    });
    // A row the first pass inserts and the second links counts twice: here `changed` is an upper bound, capped at the rows read.
    return { rows: copy.rows, changed: Math.min(copy.rows, copy.changed + set.written), rejected: [...copy.rejected, ...set.rejected] };
  }

  /** How a table's rows (in its columns' order) are masked on their way; null: not masked. */
  private mask(table: TableLoad) {
    return this.options.masker?.forColumns(table.mask, table.columns, table.key?.columns) ?? null;
  }

  /**
   * Pages are read one ahead and written three at a time: while staging parses
   * one batch the next is already on the wire, so the upload link, the usual
   * limit to a remote project, never waits on the server.
   */
  private copyRows(table: TableLoad, onRows: (rows: number) => void, onRetry: OnRetry): Promise<TableCopy> {
    const copying = this.writeRowsOf(table, onRows, onRetry);
    this.refused.writing(table, copying);
    return copying;
  }

  private async writeRowsOf(table: TableLoad, onRows: (rows: number) => void, onRetry: OnRetry): Promise<TableCopy> {
    const copy: TableCopy = { rows: 0, changed: 0, rejected: [] };
    const conflicted: Row[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const updateExisting = updatesExisting(table.mode);
    const write = (page: Row[]) =>
      table.key
        ? writeRows(this.staging, table, page, { strict: this.options.strict, onRetry, updateExisting, together: this.writeGroups })
        : writeKeylessRows(this.staging, table, page, { strict: this.options.strict, onRetry });
    const mask = this.mask(table);
    const holdBack = await this.refused.holdBackFor(table, onRetry);
    // The rows that did not go in, by the key a rejection names them with: the rows naming them are held back in turn.
    const notIn = new Map<string, Row>();
    for await (const read of readPages(this.production, table, onRetry, this.firstPages?.take(table))) {
      // Masked here, between the read and the write: staging's request bodies never hold a raw value.
      let page: Row[];
      try {
        page = mask ? read.map(mask) : read;
      } catch (error) {
        failure ??= { error };
        break;
      }
      let toWrite = page;
      if (holdBack) {
        toWrite = [];
        for (const row of page) {
          const waitsFor = holdBack(row);
          if (!waitsFor) toWrite.push(row);
          else {
            const held = heldBackRow(table, row, waitsFor);
            copy.rejected.push(held);
            notIn.set(held.key, row);
          }
        }
      }
      const sent = toWrite;
      const written: Promise<void> = (sent.length ? write(sent) : Promise.resolve<WriteOutcome>({ written: 0, rejected: [], conflicted: [] }))
        .then(
          (outcome) => {
            copy.rows += page.length;
            copy.changed += outcome.written;
            copy.rejected.push(...outcome.rejected);
            conflicted.push(...outcome.conflicted);
            if (outcome.rejected.length) for (const row of sent) notIn.set(describeKey(table, row), row);
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
    // Only under the replica role does supasync_write_rows clear the rows a moved value meets: elsewhere they would be refused again.
    if (conflicted.length && table.key && updateExisting && this.method.kind === 'replica') await this.writeConflictedAgain(table, conflicted, copy, onRetry);
    const name = qualifiedName(table.table);
    // Staging's own version of a row it refused production's of goes back now, while the tables naming it wait:
    // asked later, it would read as gone, and their rows naming it would be held back for a row staging holds.
    // (Not before a self-referencing table's second pass, which sets the rows of this pass: put back after it, as ever.)
    if (copy.rejected.some((row) => row.table === name) && this.keptCleared.has(name) && !this.secondPasses.has(name))
      this.putBackEarly.set(name, await this.putBackCleared(table));
    this.refused.record(
      table,
      copy.rejected.flatMap((row) => (row.table === name && notIn.has(row.key) ? [notIn.get(row.key) as Row] : [])),
    );
    await this.nameClashingRows(
      table,
      copy.rejected.filter((row) => row.table === name && !row.heldBack),
      notIn,
      onRetry,
    );
    // Without the replica role a value production moved between rows is refused by the row still holding it: the ways out, once.
    const moved =
      !table.mask && updateExisting && table.mode !== 'replace' && this.method.kind !== 'replica'
        ? copy.rejected.find((row) => [...CONFLICT_CODES].some((code) => row.message.includes(`, ${code})`)))
        : undefined;
    if (moved) moved.message += `\n      ${movedValueAdvice([qualifiedName(table.table)])}`;
    // Rows refused for a masked value: the rule is what to change, said once with the first.
    const refused = table.mask ? copy.rejected.find((row) => [...VALUE_REFUSED].some((code) => row.message.includes(`, ${code})`))) : undefined;
    const refusedCode = refused ? [...VALUE_REFUSED].find((code) => refused.message.includes(`, ${code})`)) : undefined;
    if (refused && table.mask) refused.message += `\n      ${maskedColumnsHint(table.mask, refusedCode)}`;
    return copy;
  }

  /**
   * Rows refused for a unique value: staging's rows holding the values, by key, said under each (three a unique
   * index at most; transport/clashing-rows.ts). Functions before version 41 cannot say: nothing is added.
   */
  private async nameClashingRows(table: TableLoad, rejected: RejectedRow[], sent: ReadonlyMap<string, Row>, onRetry: OnRetry): Promise<void> {
    const key = table.key?.columns;
    if (!key) return;
    const byIndex = new Map<string, RejectedRow[]>();
    for (const row of rejected) {
      const index = refusedIndex(row.message);
      const named = index ? (byIndex.get(index) ?? []) : [];
      if (index && sent.has(row.key) && named.length < 3) byIndex.set(index, [...named, row]);
    }
    for (const [index, refused] of byIndex) {
      const args = {
        table_schema: table.table.schema,
        table_name: table.table.name,
        index_name: index,
        columns: table.columns,
        key_columns: key,
        rows: refused.map((row) => sent.get(row.key)),
      };
      const answer = await callRpc(this.staging, 'supasync_clashing_rows', args, { onRetry, answer: ANSWERS.clashingRows }).catch(() => null);
      for (const row of refused) {
        const pairs = answer?.pairs.filter((pair) => keyText(key, pair.production) === row.key) ?? [];
        const said = answer && describeClashingRows(table.table, key, { ...answer, pairs });
        if (said) row.message += `\n      rows: ${said}`;
      }
    }
  }

  /**
   * The rows a unique or exclusion constraint refused, written again together
   * now that the table's other batches are in: a value production moved
   * between two rows of different batches met the other's old value in each,
   * and in one batch supasync_write_rows clears both and writes them afresh.
   * Those that go in are no longer rejected.
   */
  private async writeConflictedAgain(table: TableLoad, rows: Row[], copy: TableCopy, onRetry: OnRetry): Promise<void> {
    const again = await writeRows(this.staging, table, rows, { strict: this.options.strict, onRetry });
    const retried = new Set(rows.map((row) => describeKey(table, row)));
    const name = qualifiedName(table.table);
    copy.rejected = [...copy.rejected.filter((row) => row.table !== name || !retried.has(row.key)), ...again.rejected];
    copy.changed += again.written;
  }

  async deleteWhere(table: TableLoad, keyFilter: string): Promise<number> {
    this.stagingMayHaveChanged = true;
    const args = { table_schema: table.table.schema, table_name: table.table.name, row_filter: keyFilter };
    const onRetry = this.retried.add;
    // Idempotent: deleting what is already gone deletes nothing, so a retry is harmless.
    const { deleted } = await callRpc(this.staging, 'supasync_delete_where', args, { onRetry, answer: z.object({ deleted: z.coerce.number() }) });
    return deleted;
  }

  async clearForRewrite(table: TableLoad, keyFilter: string, keep: boolean): Promise<void> {
    if (!keep || !this.keepsCleared || !table.key) {
      await this.deleteWhere(table, keyFilter);
      return;
    }
    this.stagingMayHaveChanged = true;
    const args = { table_schema: table.table.schema, table_name: table.table.name, row_filter: keyFilter, key_columns: table.key.columns };
    // A retry after a lost answer clears (and keeps) nothing more: the rows are gone and kept already.
    await callRpc(this.staging, 'supasync_clear_rows', args, { onRetry: this.retried.add });
    this.keptCleared.add(qualifiedName(table.table));
  }

  async putBackCleared(table: TableLoad): Promise<PutBack | null> {
    const name = qualifiedName(table.table);
    if (this.putBackEarly.has(name)) {
      const early = this.putBackEarly.get(name) ?? null;
      this.putBackEarly.delete(name);
      return early;
    }
    if (!this.keptCleared.delete(name)) return null;
    const args = { table_schema: table.table.schema, table_name: table.table.name };
    const [putBack] = await callRpc(this.staging, 'supasync_put_back', args, { onRetry: this.retried.add, answer: ANSWERS.putBack });
    return putBack ?? null;
  }

  async setWatermarks(marks: Watermark[]): Promise<void> {
    if (!marks.length) return;
    this.stagingMayHaveChanged = true;
    await callRpc(this.staging, 'supasync_set_watermarks', { marks }, { onRetry: this.retried.add });
  }

  async setMaskedTables(changes: MaskedTableChanges): Promise<void> {
    if (!changes.masked.length && !changes.unmasked.length) return;
    await callRpc(this.staging, 'supasync_set_masked_tables', { marks: changes.masked, unmasked: changes.unmasked }, { onRetry: this.retried.add });
  }

  async finish(sequences: SequenceState[], written: TableRef[], floors: SequenceFloor[] = []): Promise<ViewRefresh[]> {
    this.stagingMayHaveChanged = true;
    if (sequences.length || floors.length) {
      // Functions older than 24 pass over the floors (the engine said so before writing).
      await callRpc(this.staging, 'supasync_set_sequences', { sequences: [...sequences, ...floors] }).catch((error: unknown) => {
        throw new DatabaseError(describeSequenceFailure(error), 1, { cause: error });
      });
    }
    return refreshViewsOverRest(this.staging, written, this.retried.add);
  }

  async abort(): Promise<void> {}
}
