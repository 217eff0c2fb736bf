// A staging that takes no writes over this connection (a read replica, or a
// database or role whose transactions default to read-only) is said so before
// anything is read or written: not at the first write's "cannot execute
// ALTER DOMAIN in a read-only transaction", nor at the hold's first look at
// supasync's own (unlogged) tables, which a replica cannot read at all.
import type pg from 'pg';
import { DatabaseError } from '../../errors.ts';

/** supasync does not override a database's or role's own read-only default. */
export async function refuseReadOnly(staging: pg.ClientBase): Promise<void> {
  const { rows } = await staging.query<{ read_only: string; replica: boolean; database: string }>(
    `SELECT pg_catalog.current_setting('transaction_read_only') AS read_only, pg_catalog.pg_is_in_recovery() AS replica,
            pg_catalog.current_database() AS database`,
  );
  const [state] = rows;
  if (state?.read_only !== 'on' && !state?.replica) return;
  throw new DatabaseError(
    state.replica
      ? "SUPABASE_STAGING_DB_URL leads to a read replica, which takes no writes: use the primary database's connection string (Dashboard > Connect). Nothing was changed."
      : "Staging takes no writes in this session: default_transaction_read_only is on for its database, for this role or in the connection string's options, and supasync does not override it. " +
          `If staging is meant to be written, turn it off (ALTER DATABASE ${state.database} SET default_transaction_read_only = off, ALTER ROLE <role> SET ..., or remove it from the string). Nothing was changed.`,
  );
}
