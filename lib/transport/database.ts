// One side of a sync, reached directly or over REST. The engine, plan and
// verify hold a Database and never ask which kind it is.
import type pg from 'pg';
import type { SupabaseClient } from '@supabase/supabase-js';
import { readCatalogPostgres, readCatalogRest } from '../catalog/read.ts';
import type { Catalog } from '../catalog/types.ts';
import type { Side, SideConfig, Via } from '../config/env.ts';
import { connectPostgres, redactUrl } from '../connect/postgres.ts';
import { connectSupabase } from '../connect/supabase.ts';

export interface Database {
  side: Side;
  via: Via;
  /** Where it is, safe to print (no password, no key). */
  location: string;
  readCatalog(): Promise<Catalog>;
  close(): Promise<void>;
}

export async function openDatabase(config: SideConfig, via: Via): Promise<Database> {
  if (via === 'postgres') {
    const client: pg.Client = await connectPostgres(config.side, config.dbUrl as string);
    return {
      side: config.side,
      via,
      location: redactUrl(config.dbUrl as string),
      readCatalog: () => readCatalogPostgres(config.side, client),
      close: () => client.end(),
    };
  }
  const supabase: SupabaseClient = connectSupabase(config.url as string, config.serviceRoleKey as string);
  return {
    side: config.side,
    via,
    location: config.url as string,
    readCatalog: () => readCatalogRest(config.side, supabase),
    close: async () => undefined,
  };
}
