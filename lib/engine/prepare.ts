// Everything a run does before it may write: read the configuration, open
// both sides, read both catalogs and plan.
import { chooseVia, loadDotenvFiles, readEnvironment, type Via } from '../config/env.ts';
import { selectionWithParents } from '../plan/parents.ts';
import { planSync, type SyncPlan } from '../plan/plan.ts';
import type { Selection } from '../plan/select.ts';
import { openDatabase, type Database } from '../transport/database.ts';

export interface PreparedRun {
  via: Via;
  production: Database;
  staging: Database;
  plan: SyncPlan;
  close(): Promise<void>;
}

export async function prepareRun(options: { via?: Via; selection: Selection; withParents?: boolean }): Promise<PreparedRun> {
  loadDotenvFiles();
  const environment = readEnvironment();
  const via = chooseVia(environment, options.via);
  const production = await openDatabase(environment.production, via);
  const staging = await openDatabase(environment.staging, via).catch(async (error: unknown) => {
    await production.close();
    throw error;
  });
  const close = async () => {
    await Promise.allSettled([production.close(), staging.close()]);
  };
  try {
    const [productionCatalog, stagingCatalog] = await Promise.all([production.readCatalog(), staging.readCatalog()]);
    let plan = planSync(productionCatalog, stagingCatalog, options.selection);
    if (options.withParents) {
      const expanded = selectionWithParents(productionCatalog, options.selection, plan.tables.map((table) => table.table));
      plan = planSync(productionCatalog, stagingCatalog, expanded);
    }
    return { via, production, staging, plan, close };
  } catch (error) {
    await close();
    throw error;
  }
}
