// A database's catalog as the direct path reads it, on a connection of its own.
import { readCatalogPostgres, type CatalogScope } from '../../lib/catalog/read.ts';
import type { Catalog } from '../../lib/catalog/types.ts';
import { connectPostgres } from '../../lib/connect/postgres.ts';

/** `scope`: the schemas a run names (every table without). */
export async function catalogAt(dbUrl: string, side: 'production' | 'staging' = 'staging', scope: CatalogScope = null): Promise<Catalog> {
  const client = await connectPostgres(side, dbUrl);
  try {
    return await readCatalogPostgres(side, client, scope);
  } finally {
    await client.end();
  }
}
