// Where staging's role may not switch foreign-key checks off, tables that
// reference each other (departments <-> employees, NOT NULL both ways) still
// load in the one staging transaction: the cycle's foreign keys are made
// DEFERRABLE INITIALLY DEFERRED for the load, checked once every table is in,
// and put back exactly as they were before COMMIT. Altering a constraint is
// the tables' owner's right, which Supabase's `postgres` has.
import type pg from 'pg';
import { qualifiedName } from '../../catalog/types.ts';
import { DatabaseError } from '../../errors.ts';
import type { SyncPlan } from '../../plan/plan.ts';
import { quoteIdent, quoteTable } from '../../sql/ident.ts';

export interface DeferredKey {
  table: string;
  name: string;
  /** Staging's own setting, restored after the check. */
  deferrable: boolean;
  initiallyDeferred: boolean;
  /** False when staging's key was deferred already: nothing to restore, but its checks still wait. */
  altered: boolean;
}

const timing = (key: Pick<DeferredKey, 'deferrable' | 'initiallyDeferred'>): string =>
  key.deferrable ? `DEFERRABLE INITIALLY ${key.initiallyDeferred ? 'DEFERRED' : 'IMMEDIATE'}` : 'NOT DEFERRABLE';

export async function deferCycleKeys(staging: pg.ClientBase, plan: SyncPlan): Promise<DeferredKey[]> {
  const deferred: DeferredKey[] = [];
  for (const { table, foreignKey } of plan.cycles.flatMap((cycle) => cycle.foreignKeys)) {
    const { rows } = await staging.query<{ deferrable: boolean; deferred: boolean; owner: string }>(
      `SELECT c.condeferrable AS deferrable, c.condeferred AS deferred, pg_catalog.pg_get_userbyid(r.relowner) AS owner
       FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_class r ON r.oid = c.conrelid
       WHERE c.conrelid = $1::regclass AND c.conname = $2 AND c.contype = 'f'`,
      [quoteTable(table), foreignKey.name],
    );
    const current = rows[0];
    // Staging without this key has nothing to defer; the plan reports the drift.
    if (!current) continue;
    const key = { table: quoteTable(table), name: foreignKey.name, deferrable: current.deferrable, initiallyDeferred: current.deferred, altered: false };
    if (key.deferrable && key.initiallyDeferred) {
      deferred.push(key);
      continue;
    }
    await staging.query('SAVEPOINT supasync_defer');
    try {
      await staging.query(`ALTER TABLE ${key.table} ALTER CONSTRAINT ${quoteIdent(key.name)} DEFERRABLE INITIALLY DEFERRED`);
      await staging.query('RELEASE SAVEPOINT supasync_defer');
    } catch (error) {
      await staging.query('ROLLBACK TO SAVEPOINT supasync_defer');
      if ((error as { code?: string }).code !== '42501') throw error;
      const cycle = plan.cycles.find((c) => c.foreignKeys.some((fk) => fk.foreignKey === foreignKey));
      throw new DatabaseError(
        `${cycle?.tables.map(qualifiedName).join(' <-> ')} reference each other, so they load only with foreign-key checks off or deferred, ` +
          `and staging's role may do neither: it may not SET session_replication_role, and only ${qualifiedName(table)}'s owner ` +
          `(${current.owner}) may defer its foreign key ${foreignKey.name}. Grant the parameter (PostgreSQL 15+: ` +
          'GRANT SET ON PARAMETER session_replication_role TO <role>; on Supabase connect as postgres), connect as the owner, ' +
          'or leave those tables out with --exclude. Nothing was changed.',
        1,
        { cause: error },
      );
    }
    deferred.push({ ...key, altered: true });
  }
  return deferred;
}

/**
 * Runs the deferred checks now, while a violation can still be named, then
 * restores each key's own timing (a constraint with checks pending cannot be
 * altered, hence this order).
 */
export async function checkAndRestoreKeys(staging: pg.ClientBase, keys: DeferredKey[]): Promise<void> {
  if (!keys.length) return;
  try {
    await staging.query('SET CONSTRAINTS ALL IMMEDIATE');
  } catch (error) {
    const e = error as { message?: string; detail?: string; table?: string; constraint?: string };
    throw new DatabaseError(
      `The copied rows break a foreign key of the cycle: ${e.message ?? String(error)}${e.detail ? ` (${e.detail})` : ''}. ` +
        "Production's snapshot is consistent, so staging holds rows the copy did not replace: sync the referencing tables too. " +
        'Staging was left exactly as it was.',
      1,
      { cause: error },
    );
  }
  for (const key of keys.filter((k) => k.altered)) {
    await staging.query(`ALTER TABLE ${key.table} ALTER CONSTRAINT ${quoteIdent(key.name)} ${timing(key)}`);
  }
}
