// The user's first version, reproduced for the benchmark
// (shared/seeds/production-staging-sync-guide.md): supabase-js on both sides,
// per table `.select('*').range(from, from + 999)` pages read one after
// another, each followed by one `.upsert(page, { onConflict: <primary key> })`
// into staging, generated columns deleted from every row, parents before
// children. No concurrency, no retries, values through JSON.parse and back.
//
//   npx tsx bench/first-version.ts [--tables public.code_embeddings,hotels]
//
// Reads SUPABASE_PROD_URL, SUPABASE_PROD_SERVICE_ROLE_KEY, SUPABASE_STAGING_URL
// and SUPABASE_STAGING_SERVICE_ROLE_KEY. Without --tables: every table in
// public. Tables it cannot copy are listed with the reason and left alone
// (bench/first-version-plan.ts). The user's script found keys and generated
// columns in information_schema; over REST this one asks supasync's catalog
// RPC, one request for the same facts. Like the user's script, a table that
// fails is reported and the run goes on; it exits 0 once every table was
// tried (the benchmark's verification says what it left behind), 1 when it
// could not start, 2 on a usage error.
import { parseArgs } from 'node:util';
import type { SupabaseClient } from '@supabase/supabase-js';
import { readCatalogRest } from '../lib/catalog/read.ts';
import { qualifiedName } from '../lib/catalog/types.ts';
import { connectSupabase } from '../lib/connect/supabase.ts';
import { planFirstVersion, type FirstVersionTable } from './first-version-plan.ts';

/** PostgREST's max rows on Supabase, and the first version's page. */
const PAGE = 1000;

const ENV = ['SUPABASE_PROD_URL', 'SUPABASE_PROD_SERVICE_ROLE_KEY', 'SUPABASE_STAGING_URL', 'SUPABASE_STAGING_SERVICE_ROLE_KEY'] as const;

function usage(message: string): never {
  console.error(`${message}\nUsage: npx tsx bench/first-version.ts [--tables a,b] (env: ${ENV.join(', ')})`);
  process.exit(2);
}

async function copyTable(production: SupabaseClient, staging: SupabaseClient, { table, onConflict, generated }: FirstVersionTable): Promise<number> {
  let copied = 0;
  for (let from = 0; ; from += PAGE) {
    const read = await production
      .from(table.name)
      .select('*')
      .range(from, from + PAGE - 1);
    if (read.error) throw new Error(`reading rows ${from}-${from + PAGE - 1}: ${read.error.message}`);
    const rows = read.data as Record<string, unknown>[];
    for (const row of rows) for (const column of generated) delete row[column];
    if (rows.length) {
      const write = await staging.from(table.name).upsert(rows, { onConflict });
      if (write.error) throw new Error(`upserting rows ${from}-${from + rows.length - 1}: ${write.error.message}`);
    }
    copied += rows.length;
    if (rows.length < PAGE) return copied;
  }
}

async function main(): Promise<number> {
  let tables: string[] | undefined;
  try {
    const { values } = parseArgs({ options: { tables: { type: 'string', multiple: true } }, strict: true });
    tables = values.tables
      ?.flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
  } catch (error) {
    usage((error as Error).message);
  }
  const missing = ENV.filter((name) => !process.env[name]);
  if (missing.length) usage(`Missing ${missing.join(', ')}`);
  const env = (name: (typeof ENV)[number]) => process.env[name] ?? '';
  const production = connectSupabase(env('SUPABASE_PROD_URL'), env('SUPABASE_PROD_SERVICE_ROLE_KEY'));
  const staging = connectSupabase(env('SUPABASE_STAGING_URL'), env('SUPABASE_STAGING_SERVICE_ROLE_KEY'));

  const plan = planFirstVersion(await readCatalogRest('production', production, env('SUPABASE_PROD_URL')), tables);
  for (const { table, reason } of plan.skipped) console.log(`skipped ${table}: ${reason}`);

  let failed = 0;
  for (const entry of plan.copy) {
    const name = qualifiedName(entry.table);
    const started = performance.now();
    try {
      const rows = await copyTable(production, staging, entry);
      console.log(`${name}: ${rows} rows in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    } catch (error) {
      failed++;
      console.log(`${name}: failed ${(error as Error).message}`);
    }
  }
  console.log(`${plan.copy.length - failed} of ${plan.copy.length} tables copied, ${failed} failed, ${plan.skipped.length} skipped`);
  return 0;
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(`first version failed: ${(error as Error).message}`);
  return 1;
});
