// Everything a run does before it may write: read the configuration, open
// both sides, read both catalogs and plan.
import { chooseVia, loadDotenvFiles, projectRef, readEnvironment, type Via } from '../config/env.ts';
import { qualifiedName } from '../catalog/types.ts';
import { DatabaseError, UsageError } from '../errors.ts';
import type { SyncPlan } from '../plan/plan.ts';
import type { Selection } from '../plan/select.ts';
import { openDatabase, type Database } from '../transport/database.ts';

export interface PreparedRun {
  via: Via;
  production: Database;
  staging: Database;
  plan: SyncPlan;
  close(): Promise<void>;
}

export async function prepareRun(options: {
  via?: Via;
  selection: Selection;
  withParents?: boolean;
  /** Project refs that must never be written to: refused as staging. */
  protectedRefs?: string[];
  /** Requests at once to each project over REST (--concurrency). */
  concurrency?: number;
}): Promise<PreparedRun> {
  // The planner loads while both sides connect and answer the catalog queries.
  const planner = Promise.all([import('../plan/plan.ts'), import('../plan/parents.ts')]);
  planner.catch(() => undefined); // awaited below; a run that fails before then must not also report this
  loadDotenvFiles();
  const environment = readEnvironment();
  const stagingRef = projectRef(environment.staging);
  if (stagingRef && options.protectedRefs?.includes(stagingRef)) {
    throw new UsageError(`Staging is project ${stagingRef}, which supasync.config.json lists in protectedRefs: supasync never writes to it.`);
  }
  const via = chooseVia(environment, options.via);
  // Both at once: to a remote project each connection costs a few round trips.
  const [productionOpened, stagingOpened] = await Promise.allSettled([
    openDatabase(environment.production, via, options.concurrency),
    openDatabase(environment.staging, via, options.concurrency),
  ]);
  if (productionOpened.status === 'rejected' || stagingOpened.status === 'rejected') {
    await Promise.allSettled([productionOpened, stagingOpened].map((opened) => (opened.status === 'fulfilled' ? opened.value.close() : undefined)));
    throw productionOpened.status === 'rejected' ? productionOpened.reason : (stagingOpened as PromiseRejectedResult).reason;
  }
  const production = productionOpened.value;
  const staging = stagingOpened.value;
  const close = async () => {
    await Promise.allSettled([production.close(), staging.close()]);
  };
  try {
    const [productionCatalog, stagingCatalog] = await Promise.all([production.readCatalog(), staging.readCatalog()]);
    const [{ planSync }, { selectionWithParents }] = await planner;
    let plan = planSync(productionCatalog, stagingCatalog, options.selection);
    const hidden = productionCatalog.tables.filter(
      (table) => table.rlsHidesRows && plan.tables.some((t) => t.table.schema === table.schema && t.table.name === table.name),
    );
    if (hidden.length) {
      throw new DatabaseError(
        `Row-level security would hide rows of ${hidden.map(qualifiedName).join(', ')} from the role production is read with ` +
          '(it neither bypasses RLS nor owns them): the copy would be silently short. Read production as a role with BYPASSRLS ' +
          '(on Supabase: postgres; or ALTER ROLE <role> BYPASSRLS), or over REST with the service_role key.',
      );
    }
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
