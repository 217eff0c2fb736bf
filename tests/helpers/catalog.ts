// A database's catalog as the direct path reads it, on a connection of its own.
import { readCatalogPostgres } from '../../lib/catalog/read.ts';
import type { Catalog } from '../../lib/catalog/types.ts';
import { connectPostgres } from '../../lib/connect/postgres.ts';

export async function catalogAt(dbUrl: string, side: 'production' | 'staging' = 'staging'): Promise<Catalog> {
  const client = await connectPostgres(side, dbUrl);
  try {
    return await readCatalogPostgres(side, client);
  } finally {
    await client.end();
  }
}
