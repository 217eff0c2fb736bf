// Writing staging over a direct connection: the whole run is one staging
// transaction, so a failure anywhere leaves staging exactly as it was.
import { holdSyncTargetMarkPostgres } from './sync-target.ts';
import { restoreTriggers, silenceTriggers, type SilencedTrigger } from './silenced-triggers.ts';
import type pg from 'pg';
import { qualifiedName, type SequenceFloor, type SequenceState, type TableRef } from '../../catalog/types.ts';
import { CONFLICT_CODES, DatabaseError } from '../../errors.ts';
import { describeSequenceFailure } from '../sequences.ts';
import { updatesExisting, type LoadPlan, type TableLoad } from '../load.ts';
import type { MaskedTableChanges } from '../masked-tables.ts';
import type { Watermark } from '../watermarks.ts';
import { columnList, quoteIdent, quoteTable } from '../../sql/ident.ts';
import { ownRowsOf, runShared } from '../../sql/shared.ts';
import {
  tablesToSave,
  type LoadMethod,
  type PreparedStaging,
  type SessionOptions,
  type StagingBackup,
  type SyncSession,
  type TableCopy,
  type TouchedRanges,
  type ViewRefresh,
} from '../session.ts';
import { backUpTables } from './backup.ts';
import { setMaskedTablesPostgres } from './masked-tables.ts';
import { clashingRows } from './clashing-rows.ts';
import { copyRows } from './copy.ts';
import { emptyInProduction } from './empty-tables.ts';
import { checkAndRestoreKeys, deferCycleKeys, deferKeysInto, type DeferredKey } from './deferred-keys.ts';
import { refuseForeignTriggers } from './foreign-triggers.ts';
import { refuseUnwritableTables } from './write-privileges.ts';
import { alwaysEventTriggerWarnings } from '../event-triggers.ts';
import { createIndexes, dropSecondaryIndexes, type SecondaryIndex } from './indexes.ts';
import { deletedNotTruncated, type ForeignKeyLink } from '../../catalog/links.ts';
import { setSequencesPostgres } from './sequences.ts';
import { openSnapshot, type Snapshot } from './snapshot.ts';
import { maskedWriteFailure } from '../../mask/apply.ts';
import { refreshViews } from './views.ts';
import { refuseReadOnly } from './read-only.ts';

export async function openPostgresSession(
  sides: { production: pg.Client; staging: pg.Client; stagingUrl: string },
  plan: LoadPlan,
  options: SessionOptions,
): Promise<SyncSession> {
  const { staging } = sides;
  const snapshot = await openSnapshot(sides.production);
  try {
    await staging.query('BEGIN');
    await refuseReadOnly(staging);
    await holdSyncTargetMarkPostgres(staging);
    // Index builds after a load sort in memory rather than on disk when they can.
    await staging.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    await preferLz4(staging);
    const method = await chooseLoadMethod(staging, plan);
    const deferred = method.kind === 'replica' ? [] : await deferCycleKeys(staging, plan);
    return new PostgresSession(snapshot.reader, staging, sides.stagingUrl, snapshot, method, deferred, plan.stagingLinks, options);
  } catch (error) {
    await snapshot.close();
    await staging.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Wide values (embeddings, long text) are compressed as they are stored, and
 * pglz compresses a whole value before finding that float arrays do not
 * shrink: lz4 gives up or succeeds several times faster (a third off loading
 * embeddings). Values read back the same; only a column without a method of
 * its own is affected. Servers built without lz4 refuse the setting and keep
 * theirs.
 */
async function preferLz4(staging: pg.ClientBase): Promise<void> {
  await staging.query('SAVEPOINT supasync_lz4');
  try {
    await staging.query('SET LOCAL default_toast_compression = lz4');
    await staging.query('RELEASE SAVEPOINT supasync_lz4');
  } catch {
    await staging.query('ROLLBACK TO SAVEPOINT supasync_lz4');
  }
}

/**
 * With `session_replication_role = replica` staging skips triggers and
 * foreign-key checks for this transaction only: copied rows are not rewritten
 * by triggers, and tables load in any order, cycles included. A role that may
 * not set it (plain PostgreSQL without the grant) loads in foreign-key order
 * with its user triggers disabled and the foreign keys of cycles deferred to
 * the end of the load, which it may do as the tables' owner.
 */
async function chooseLoadMethod(staging: pg.ClientBase, plan: LoadPlan): Promise<LoadMethod> {
  const eventTriggers = alwaysEventTriggerWarnings(await runShared<string[]>(staging, 'always_event_triggers', []));
  await staging.query('SAVEPOINT supasync_replica');
  try {
    await staging.query('SET LOCAL session_replication_role = replica');
    return { kind: 'replica', warnings: eventTriggers };
  } catch (error) {
    await staging.query('ROLLBACK TO SAVEPOINT supasync_replica');
    if ((error as { code?: string }).code !== '42501') throw error;
  }
  const cycles = plan.cycles.map((cycle) => cycle.tables.map(qualifiedName).join(' <-> ')).join('; ');
  return {
    kind: 'foreign-key order',
    warnings: [
      "staging's role may not SET session_replication_role: loading in foreign-key order, with the tables' user triggers disabled during the load" +
        (cycles ? ` and the foreign keys between ${cycles} checked at its end.` : '.'),
      ...eventTriggers,
    ],
  };
}

class PostgresSession implements SyncSession {
  readonly atomic = true;
  // One staging connection, one transaction: tables go one after another.
  readonly parallelTables = 1;
  readonly retries = [];
  stagingMayHaveChanged = false;
  /** User triggers that would fire as the load writes, off until finish() (silenced-triggers.ts). */
  private silencedTriggers: SilencedTrigger[] = [];
  private tempTables = 0;
  private postponedIndexes: SecondaryIndex[] = [];
  /** The replaced tables' secondary indexes, dropped in prepare() and built again after each table's rows. */
  private droppedIndexes = new Map<string, SecondaryIndex[]>();
  /** Replaced tables production has no row of in the run's snapshot: emptied, nothing to copy (empty-tables.ts). */
  private emptyInProduction = new Set<string>();
  /** Tables emptied by a DELETE whose foreign-key checks wait for the end of the load: no index may be built on them before. */
  private readonly checksPending = new Set<string>();

  constructor(
    private readonly production: pg.Client,
    private readonly staging: pg.Client,
    private readonly stagingUrl: string,
    private readonly snapshot: Snapshot,
    readonly method: LoadMethod,
    private readonly deferredKeys: DeferredKey[],
    private readonly stagingLinks: ForeignKeyLink[],
    private readonly options: SessionOptions,
  ) {}

  async refusals(tables: TableLoad[]): Promise<void> {
    await refuseUnwritableTables(this.staging, tables);
    await refuseForeignTriggers(
      this.staging,
      tables.map((table) => table.table),
      this.method.kind === 'replica',
    );
  }

  async prepare(tables: TableLoad[], alsoEmptied: TableRef[], sequences: TableRef[], touched?: ReadonlyMap<string, TouchedRanges>): Promise<PreparedStaging> {
    await this.refusals(tables);
    const { emptied, upserted } = tablesToSave(tables, alsoEmptied);
    let backup: StagingBackup | null = null;
    // In this transaction, before its first write: the backup is what staging held when the run began.
    if (this.options.backup && (emptied.length || upserted.length)) {
      const written = await backUpTables(this.staging, this.stagingUrl, [...emptied, ...upserted], this.options.backup, sequences, touched);
      backup = { ...written, upserted: upserted.length };
    }
    this.silencedTriggers = await silenceTriggers(this.staging, [...tables.map((table) => table.table), ...alsoEmptied], this.method.kind === 'replica');
    if (emptied.length) {
      // Indexes first: a table whose DELETE left foreign-key checks pending may not have an index dropped until they ran.
      const replaced = tables.filter((table) => table.mode === 'replace');
      this.emptyInProduction = await emptyInProduction(this.production, replaced);
      this.droppedIndexes = await dropSecondaryIndexes(
        this.staging,
        replaced.filter((table) => !this.emptyInProduction.has(qualifiedName(table.table))).map((table) => table.table),
      );
      await this.empty(emptied);
    }
    return { backup, warnings: [] };
  }

  /**
   * TRUNCATE, in one statement, refuses a table another staging table
   * references, whatever either holds. Those are emptied with DELETE: under
   * the replica role it fires no foreign-key trigger; without it, the keys
   * that reference them wait for the end of the load (deferKeysInto). The
   * referencing rows stay, and the engine checks before COMMIT that each
   * finds its parent again (its check before writing already said they would).
   */
  private async empty(emptied: TableRef[]): Promise<void> {
    const referenced = deletedNotTruncated(this.stagingLinks, emptied);
    const truncated = emptied.filter((table) => !referenced.includes(table));
    // Without the replica role the DELETE fires the referencing keys: they wait for the end of the load.
    if (referenced.length && this.method.kind !== 'replica') {
      this.deferredKeys.push(...(await deferKeysInto(this.staging, referenced, emptied)));
      for (const table of referenced) this.checksPending.add(qualifiedName(table));
    }
    if (truncated.length) await this.staging.query(`TRUNCATE ${(await ownRowsOf(this.staging, truncated)).join(', ')}`);
    for (const table of await ownRowsOf(this.staging, referenced)) await this.staging.query(`DELETE FROM ${table}`);
  }

  async copyTable(table: TableLoad, onRows: (rows: number) => void): Promise<TableCopy> {
    try {
      return await this.copyTableRows(table, onRows);
    } catch (error) {
      throw (table.mask && maskedWriteFailure(table.mask, error)) || error;
    }
  }

  /** A masked table's rows pass through its mask on the way (copy.ts); the others stream as they are. */
  private mask(table: TableLoad) {
    return this.options.masker?.forColumns(table.mask, table.columns, table.key?.columns) ?? null;
  }

  private async copyTableRows(table: TableLoad, onRows: (rows: number) => void): Promise<TableCopy> {
    if (table.mode === 'replace' && this.emptyInProduction.has(qualifiedName(table.table))) return { rows: 0, changed: 0, rejected: [] };
    if (table.mode === 'replace') {
      const dropped = this.droppedIndexes.get(qualifiedName(table.table)) ?? [];
      const rows = await copyRows({ production: this.production, staging: this.staging, table, into: quoteTable(table.table), onRows, mask: this.mask(table) });
      // A table whose foreign-key checks wait for the end of the load cannot
      // have indexes built while they wait: its indexes come after the checks.
      if (this.deferredKeys.some((key) => key.table === quoteTable(table.table)) || this.checksPending.has(qualifiedName(table.table))) {
        this.postponedIndexes.push(...dropped);
      } else await createIndexes(this.staging, dropped);
      return { rows, changed: rows, rejected: [] };
    }
    return this.upsertTable(table, onRows);
  }

  /**
   * Rows land in a temporary table first, then one INSERT ... ON CONFLICT
   * merges them on the detected key (supasync_private.insert_query). Rows
   * equal to staging's are not rewritten.
   */
  private async upsertTable(table: TableLoad, onRows: (rows: number) => void): Promise<TableCopy> {
    if (!table.key) throw new DatabaseError(`${qualifiedName(table.table)} has no key to upsert on`);
    const temp = quoteIdent(`supasync_load_${++this.tempTables}`);
    const columns = columnList(table.columns);
    await this.staging.query(`CREATE TEMP TABLE ${temp} ON COMMIT DROP AS SELECT ${columns} FROM ${quoteTable(table.table)} WITH NO DATA`);
    const rows = await copyRows({ production: this.production, staging: this.staging, table, into: temp, onRows, mask: this.mask(table) });
    // The INSERT the REST path's supasync_write_rows runs, from the temporary table instead of a batch.
    const insert = await runShared<string>(this.staging, 'insert_query', [
      quoteTable(table.table),
      table.columns,
      table.key.columns,
      temp,
      updatesExisting(table.mode),
    ]);
    const target = { table: table.table, columns: table.columns, keyColumns: table.key.columns };
    const result = await this.namingClashingRows(target, temp, () =>
      this.method.kind === 'replica' && updatesExisting(table.mode) ? this.mergeMovedValues(target, temp, insert) : this.staging.query(insert),
    );
    await this.staging.query(`DROP TABLE ${temp}`);
    return { rows, changed: result.rowCount ?? 0, rejected: [] };
  }

  /**
   * The merge, and where staging refuses a unique value, the rows it was refused between named on the error (the run
   * fails all the same): back at a savepoint, the transaction can still ask.
   */
  private async namingClashingRows(
    target: { table: TableRef; columns: string[]; keyColumns: string[] },
    temp: string,
    merge: () => Promise<pg.QueryResult>,
  ): Promise<pg.QueryResult> {
    await this.staging.query('SAVEPOINT supasync_clash');
    try {
      const result = await merge();
      await this.staging.query('RELEASE SAVEPOINT supasync_clash');
      return result;
    } catch (error) {
      if (CONFLICT_CODES.has((error as { code?: string }).code ?? '')) {
        await this.staging
          .query('ROLLBACK TO SAVEPOINT supasync_clash')
          .then(() => clashingRows(this.staging, error, target, temp))
          .then((rows) => {
            if (rows) (error as { clashingRows?: string }).clashingRows = rows;
          })
          .catch(() => undefined);
      }
      throw error;
    }
  }

  /**
   * The upsert, and where a unique or exclusion value production moved
   * between rows staging holds both of meets their old values, those rows
   * deleted first (supasync_private.clear_changed_query) and the upsert run
   * again: the common table pays a savepoint for it.
   */
  private async mergeMovedValues(target: { table: TableRef; columns: string[]; keyColumns: string[] }, temp: string, insert: string): Promise<pg.QueryResult> {
    await this.staging.query('SAVEPOINT supasync_merge');
    let result: pg.QueryResult;
    try {
      result = await this.staging.query(insert);
    } catch (error) {
      if (!CONFLICT_CODES.has((error as { code?: string }).code ?? '')) throw error;
      await this.staging.query('ROLLBACK TO SAVEPOINT supasync_merge');
      const clear = await runShared<string | null>(this.staging, 'clear_changed_query', [quoteTable(target.table), target.columns, target.keyColumns, temp]);
      if (!clear) throw error;
      await this.staging.query(clear);
      result = await this.staging.query(insert);
    }
    await this.staging.query('RELEASE SAVEPOINT supasync_merge');
    return result;
  }

  async deleteWhere(table: TableLoad, keyFilter: string): Promise<number> {
    const remove = await runShared<string>(this.staging, 'delete_where_query', [quoteTable(table.table), keyFilter]);
    return (await this.staging.query(remove)).rowCount ?? 0;
  }

  /** In the run's one transaction: a row staging then refuses rolls the run back, cleared rows with it. */
  async clearForRewrite(table: TableLoad, keyFilter: string): Promise<void> {
    await this.deleteWhere(table, keyFilter);
  }

  async setWatermarks(marks: Watermark[]): Promise<void> {
    if (marks.length) await runShared(this.staging, 'set_watermarks', [JSON.stringify(marks)]);
  }

  async setMaskedTables(changes: MaskedTableChanges): Promise<void> {
    await setMaskedTablesPostgres(this.staging, changes);
  }

  async finish(sequences: SequenceState[], written: TableRef[], floors: SequenceFloor[] = []): Promise<ViewRefresh[]> {
    await checkAndRestoreKeys(this.staging, this.deferredKeys);
    await createIndexes(this.staging, this.postponedIndexes);
    // Deferred constraints are checked now rather than at COMMIT: setval is
    // not undone by a rollback, so nothing may fail after it.
    await this.staging.query('SET CONSTRAINTS ALL IMMEDIATE');
    const views = await refreshViews(this.staging, written);
    // Until here every write rolls back with the connection. Not setval, from
    // its first call on, and a COMMIT whose answer is lost may have landed:
    // a run stopped from now on keeps its backup and says so.
    this.stagingMayHaveChanged = true;
    await setSequencesPostgres(this.staging, sequences, floors).catch((error: unknown) => {
      throw new DatabaseError(describeSequenceFailure(error), 1, { cause: error });
    });
    await restoreTriggers(this.staging, this.silencedTriggers);
    await this.staging.query('COMMIT');
    await this.close();
    return views;
  }

  async abort(): Promise<void> {
    await this.staging.query('ROLLBACK').catch(() => undefined);
    await this.close();
  }

  /** The connections are the run's (see PostgresDatabase.client): they stay open for what comes after. */
  private async close(): Promise<void> {
    await this.snapshot.close();
  }
}
