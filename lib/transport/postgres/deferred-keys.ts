// Where staging's role may not switch foreign-key checks off, tables that
// reference each other (departments <-> employees, NOT NULL both ways) still
// load in the one staging transaction: the cycle's foreign keys are made
// DEFERRABLE INITIALLY DEFERRED for the load, checked once every table is in,
// and put back exactly as they were before COMMIT. Altering a constraint is
// the tables' owner's right, which Supabase's `postgres` has.
import type pg from 'pg';
import { constraintsOf, isValidated, qualifiedName, type TableRef } from '../../catalog/types.ts';
import { DatabaseError } from '../../errors.ts';
import type { CycleLoad, LoadPlan } from '../load.ts';
import { quoteIdent, quoteTable } from '../../sql/ident.ts';

export interface DeferredKey {
  /** The table the copy loads, whose indexes wait for the check. */
  table: string;
  /** Where the constraint is declared, which DDL must name: the table, or one of its partitions. */
  relation: string;
  name: string;
  /** Staging's own setting, restored after the check. */
  deferrable: boolean;
  initiallyDeferred: boolean;
  /** False when staging's key was deferred already: nothing to restore, but its checks still wait. */
  altered: boolean;
}

const timing = (key: Pick<DeferredKey, 'deferrable' | 'initiallyDeferred'>): string =>
  key.deferrable ? `DEFERRABLE INITIALLY ${key.initiallyDeferred ? 'DEFERRED' : 'IMMEDIATE'}` : 'NOT DEFERRABLE';

export async function deferCycleKeys(staging: pg.ClientBase, plan: LoadPlan): Promise<DeferredKey[]> {
  const deferred: DeferredKey[] = [];
  for (const cycle of plan.cycles) {
    for (const { table, foreignKey } of cycle.foreignKeys) {
      // One added NOT VALID is dropped for the load instead, and added back (silenced-triggers.ts).
      if (!isValidated(foreignKey)) continue;
      // A key its partitions declare is one constraint per partition, each deferred on its own.
      for (const { relation, name } of constraintsOf(table, foreignKey)) {
        const key = await deferKey(staging, { table: quoteTable(table), relation: quoteTable(relation), name }).catch(async (error: unknown) => {
          if ((error as { code?: string }).code !== '42501') throw error;
          throw cannotDefer(cycle, table, { relation, name }, await ownerOf(staging, relation), error);
        });
        if (key) deferred.push(key);
      }
    }
  }
  return deferred;
}

/**
 * Where the replica role is refused, a replace empties a table that staging
 * tables outside the run reference with DELETE, which fires their foreign
 * keys: those are deferred to the end of the load, when the referencing rows
 * find their parents again (the engine checked they would) or the run fails
 * naming them. A key that acts on delete (CASCADE, SET NULL, SET DEFAULT) or
 * is RESTRICT acts at once, whatever its deferral: refused, before a row goes.
 */
export async function deferKeysInto(staging: pg.ClientBase, referenced: TableRef[], emptied: TableRef[]): Promise<DeferredKey[]> {
  const { rows } = await staging.query<{ relation: string; root: string; name: string; action: string }>(
    `SELECT c.conrelid::regclass::text AS relation, COALESCE(pg_catalog.pg_partition_root(c.conrelid), c.conrelid)::regclass::text AS root,
            c.conname AS name, c.confdeltype AS action
     FROM pg_catalog.pg_constraint c
     WHERE c.contype = 'f' AND c.conparentid = 0
       AND COALESCE(pg_catalog.pg_partition_root(c.confrelid), c.confrelid) = ANY ($1::regclass[])
       AND COALESCE(pg_catalog.pg_partition_root(c.conrelid), c.conrelid) <> ALL ($2::regclass[])
     ORDER BY 1, 3`,
    [referenced.map((table) => quoteTable(table)), emptied.map((table) => quoteTable(table))],
  );
  const acting = rows.filter((row) => row.action !== 'a');
  if (acting.length) {
    const actions: Record<string, string> = { r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };
    throw new DatabaseError(
      `${referenced.map(qualifiedName).join(', ')} cannot be emptied for the replace: staging's role may not SET session_replication_role, ` +
        `so emptying them fires the foreign keys that reference them, and ${acting
          .map((row) => `${row.relation}'s ${row.name} (ON DELETE ${actions[row.action] ?? row.action})`)
          .join(', ')} would act on the referencing rows at once. Add those tables to the run (--tables, or their schema to --schemas), ` +
        "keep staging's rows with --mode upsert, or grant the parameter (PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>). Nothing was changed.",
    );
  }
  const deferred: DeferredKey[] = [];
  for (const row of rows) {
    const key = await deferKey(staging, { table: row.root, relation: row.relation, name: row.name }).catch(async (error: unknown) => {
      if ((error as { code?: string }).code !== '42501') throw error;
      throw new DatabaseError(
        `Emptying ${referenced.map(qualifiedName).join(', ')} for the replace fires ${row.relation}'s foreign key ${row.name}, which must wait for the end of the load, ` +
          "and staging's role may neither SET session_replication_role nor defer that key (only the table's owner may). " +
          'Grant the parameter (PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>), connect as the owner, ' +
          `add ${row.root} to the run, or keep staging's rows with --mode upsert. Nothing was changed.`,
        1,
        { cause: error },
      );
    });
    if (key) deferred.push(key);
  }
  return deferred;
}

/** Null when staging has no such key (or no such partition): nothing to defer, the plan reports the drift. */
async function deferKey(staging: pg.ClientBase, key: Pick<DeferredKey, 'table' | 'relation' | 'name'>): Promise<DeferredKey | null> {
  const { rows } = await staging.query<{ deferrable: boolean; deferred: boolean }>(
    `SELECT condeferrable AS deferrable, condeferred AS deferred FROM pg_catalog.pg_constraint
     WHERE conrelid = pg_catalog.to_regclass($1) AND conname = $2 AND contype = 'f'`,
    [key.relation, key.name],
  );
  const current = rows[0];
  if (!current) return null;
  const found = { ...key, deferrable: current.deferrable, initiallyDeferred: current.deferred, altered: false };
  if (found.deferrable && found.initiallyDeferred) return found;
  await staging.query('SAVEPOINT supasync_defer');
  try {
    await staging.query(`ALTER TABLE ${key.relation} ALTER CONSTRAINT ${quoteIdent(key.name)} DEFERRABLE INITIALLY DEFERRED`);
    await staging.query('RELEASE SAVEPOINT supasync_defer');
  } catch (error) {
    await staging.query('ROLLBACK TO SAVEPOINT supasync_defer');
    throw error;
  }
  return { ...found, altered: true };
}

async function ownerOf(staging: pg.ClientBase, relation: TableRef): Promise<string> {
  const { rows } = await staging.query<{ owner: string }>(
    'SELECT pg_catalog.pg_get_userbyid(relowner) AS owner FROM pg_catalog.pg_class WHERE oid = $1::regclass',
    [quoteTable(relation)],
  );
  return rows[0]?.owner ?? 'another role';
}

function cannotDefer(cycle: CycleLoad, table: TableRef, key: { relation: TableRef; name: string }, owner: string, cause: unknown): DatabaseError {
  const onPartition = qualifiedName(key.relation) === qualifiedName(table) ? '' : ` (declared on that partition of ${qualifiedName(table)})`;
  return new DatabaseError(
    `${cycle.tables.map(qualifiedName).join(' <-> ')} reference each other, so they load only with foreign-key checks off or deferred, ` +
      `and staging's role may do neither: it may not SET session_replication_role, and only ${qualifiedName(key.relation)}'s owner ` +
      `(${owner}) may defer its foreign key ${key.name}${onPartition}. Grant the parameter (PostgreSQL 15+: ` +
      'GRANT SET ON PARAMETER session_replication_role TO <role>; on Supabase connect as postgres), connect as the owner, ' +
      'or leave those tables out with --exclude. Nothing was changed.',
    1,
    { cause },
  );
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
      `The copied rows break a foreign key whose check waited for the end of the load: ${e.message ?? String(error)}${e.detail ? ` (${e.detail})` : ''}. ` +
        "Production's snapshot is consistent, so staging holds rows the copy did not replace: sync the referencing tables too " +
        '(staging checks its foreign keys itself here, so --allow-orphans cannot let them pass). ' +
        'Staging was left exactly as it was.',
      1,
      { cause: error },
    );
  }
  for (const key of keys.filter((k) => k.altered)) {
    await staging.query(`ALTER TABLE ${key.relation} ALTER CONSTRAINT ${quoteIdent(key.name)} ${timing(key)}`);
  }
}
