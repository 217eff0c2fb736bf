// The Storage stand-in's database access, as Supabase's server does it: one
// login, supabase_storage_admin (the owner of the storage tables, so RLS does
// not apply to it), and per request the caller's role from its JWT with the
// claims RLS policies read. Service-role callers pass RLS by BYPASSRLS; an
// anon caller meets RLS with no policies, as on a project that wrote none.
import pg from 'pg';
import { fromDatabaseError, isDatabaseError } from './storage-errors.ts';

/** Who a request acts as: the role and claims of its JWT. */
export interface Caller {
  role: string;
  claims: Record<string, unknown>;
  /** A JWT was presented and verified; routes that tolerate none act as anon without it. */
  authenticated: boolean;
}

/** The storage service itself (Storage's asSuperUser()), or a caller. */
export type Actor = Caller | 'service';

export interface Tx {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Acts as `actor` for the rest of the transaction. */
  actAs(actor: Actor): Promise<void>;
}

export class StorageDb {
  private readonly pool: pg.Pool;

  constructor(dbUrl: string) {
    // Idle connections close soon: a test run starts a storage server per project.
    this.pool = new pg.Pool({ connectionString: dbUrl, max: 4, idleTimeoutMillis: 1_000 });
    this.pool.on('error', () => undefined);
  }

  /** Runs `work` in one transaction as `actor`; PostgreSQL's errors come out as Storage's (DBError.fromDBError). */
  async transaction<T>(actor: Actor, work: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const tx: Tx = {
      query: (text, values) => client.query(text, values),
      actAs: async (next) => {
        if (next === 'service') {
          await client.query('SET LOCAL ROLE NONE');
          return;
        }
        await client.query(
          `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                  set_config('request.jwt.claim.role', $1, true), set_config('request.jwt.claim.sub', $3, true)`,
          [next.role, JSON.stringify(next.claims), typeof next.claims.sub === 'string' ? next.claims.sub : ''],
        );
      },
    };
    try {
      await client.query('BEGIN');
      await tx.actAs(actor);
      const result = await work(tx);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw isDatabaseError(error) ? fromDatabaseError(error) : error;
    } finally {
      client.release();
    }
  }

  /**
   * Runs `work` as `actor` and rolls it back: whether the caller may write
   * the row, before any byte is stored (Storage's testPermission).
   */
  async testPermission(actor: Actor, work: (tx: Tx) => Promise<unknown>): Promise<void> {
    const rolledBack = new Error('rolled back');
    await this.transaction(actor, async (tx) => {
      await work(tx);
      throw rolledBack;
    }).catch((error: unknown) => {
      if (error !== rolledBack) throw error;
    });
  }

  end(): Promise<void> {
    return this.pool.end();
  }
}
