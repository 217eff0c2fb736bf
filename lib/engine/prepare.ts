// Everything a run does before it may write: read the configuration, open
// both sides, read both catalogs and plan.
import type { SyncTargetMark } from '../transport/reads.ts';
import { chooseVia, loadDotenvFiles, readEnvironment, refuseProtectedStaging, type Environment, type Via } from '../config/env.ts';
import { UsageError } from '../errors.ts';
import { qualifiedName } from '../catalog/types.ts';
import type { SyncPlan } from '../plan/types.ts';
import type { SyncMode } from '../plan/mode.ts';
import type { Selection } from '../plan/select.ts';
import { catalogScope } from '../plan/catalog-scope.ts';
import { openDatabase, type Database } from '../transport/database.ts';
import { refuseMarkedProduction, refuseUnmarkedStaging } from '../transport/sync-target.ts';
import { refuseInheritedTables } from './inherited-tables.ts';
import { refuseBrokenWheres } from './config-wheres.ts';
import { refuseUnreadableProduction } from './production-reads.ts';
import { refuseHiddenStagingRows } from './staging-rls.ts';
import { columnsNamedByRules, masksAsked, planMasks, withMasks, type MaskSettings } from '../plan/mask.ts';
import { personalColumnsLeftRaw, personalKeysLeftRaw } from '../plan/personal-columns.ts';
import { maskKeyFromEnvironment } from '../mask/key.ts';
import { loadMasker, type Masker } from '../mask/apply.ts';

export interface PreparedRun {
  via: Via;
  production: Database;
  staging: Database;
  plan: SyncPlan;
  /** Masks the rows of the plan's masked tables on their way (lib/mask); null: the run masks nothing. */
  masker: Masker | null;
  /** Both projects as configured: the Storage API is reached through their URLs and keys (lib/storage). */
  environment: Environment;
  /** The run writing staging as this one looked (staging-hold.ts); null: none. A dry run and verify say so. */
  stagingHeldBy: string | null;
  /** Staging's sync-target mark, as read through the run's own path (the files' projects are held to it). */
  stagingMark: Extract<SyncTargetMark, { kind: 'marked' }>;
  close(): Promise<void>;
}

export async function prepareRun(options: {
  via?: Via;
  selection: Selection;
  /** The run's mode; a verify, which writes nothing, leaves it out. */
  mode?: SyncMode;
  withParents?: boolean;
  /** Project refs that must never be written to: refused as staging (supasync.config.json). */
  protectedRefs: readonly string[];
  /** Requests at once to each project over REST (--concurrency). */
  concurrency?: number;
  /** supasync.config.json's masking rules and preset (or --mask), and the directory their modules' paths start from. */
  mask?: MaskSettings & { directory: string };
}): Promise<PreparedRun> {
  // The planner loads while both sides connect and answer the catalog queries.
  const planner = Promise.all([import('../plan/plan.ts'), import('../plan/parents.ts'), import('../plan/select.ts')]);
  planner.catch(() => undefined); // awaited below; a run that fails before then must not also report this
  loadDotenvFiles();
  const environment = readEnvironment();
  refuseProtectedStaging(environment.staging, options.protectedRefs);
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
    // The sides at once. Over REST a side's questions at once too (each is a round trip); a direct connection answers
    // one after the other, and the catalog's read-only transaction is its own.
    const scope = catalogScope(options.selection, options.mask);
    const readSide = async (database: Database) => {
      if (database.via === 'rest') {
        // The functions' version too, which the checks after the plan ask (kept per client): two round trips fewer in a row.
        const [catalog, mark] = await Promise.all([
          database.readCatalog(scope),
          database.readSyncTarget(),
          database.functionsVersion?.().catch(() => undefined),
        ]);
        return { catalog, mark };
      }
      return { catalog: await database.readCatalog(scope), mark: await database.readSyncTarget() };
    };
    const [{ catalog: productionCatalog, mark: productionMark }, { catalog: stagingCatalog, mark: stagingMark }] = await Promise.all([
      readSide(production),
      readSide(staging),
    ]);
    const [{ planSync }, { selectionWithParents }, { resolveTableOptions }] = await planner;
    const planned = (catalog: typeof productionCatalog) => {
      const selection = resolveTableOptions(catalog, options.selection);
      return { selection, plan: planSync(catalog, stagingCatalog, selection, options.mode) };
    };
    let planning: ReturnType<typeof planned>;
    try {
      planning = planned(productionCatalog);
    } catch (error) {
      // Refused, it is refused again with every schema of production read, so a name it cannot find is told the table
      // meant: the catalog lists the tables of the schemas the run names (and what they reach), not another schema's.
      if (!(error instanceof UsageError)) throw error;
      const whole = await production.readCatalog().catch(() => null);
      if (whole) planned(whole);
      throw error;
    }
    const { selection } = planning;
    let { plan } = planning;
    // Every run that names the two sides refuses the same things, a dry-run
    // and a verify included: what would be refused later is refused now.
    if (plan.sameDatabase) {
      throw new UsageError(`Production and staging lead to the same database (${plan.staging}): refusing to use a database as both. Check SUPABASE_STAGING_*.`);
    }
    refuseMarkedProduction(productionMark, production.location);
    refuseUnmarkedStaging(stagingMark, staging.location);
    if (options.withParents) {
      const expanded = selectionWithParents(
        productionCatalog,
        selection,
        plan.tables.map((table) => table.table),
      );
      const chosen = new Set(plan.tables.map((table) => qualifiedName(table.table)));
      plan = planSync(productionCatalog, stagingCatalog, expanded, options.mode);
      plan = { ...plan, parentsAdded: plan.tables.map((table) => table.table).filter((table) => !chosen.has(qualifiedName(table))) };
    }
    refuseUnreadableProduction(productionCatalog, plan);
    refuseHiddenStagingRows(stagingCatalog, plan);
    await refuseInheritedTables({ production, staging }, { production: productionCatalog, staging: stagingCatalog }, plan);
    await refuseBrokenWheres(production, plan);
    let masker: Masker | null = null;
    if (options.mask && masksAsked(options.mask)) {
      // Rules are checked against the catalogs whatever the selection; the secret is needed once a chosen table is masked,
      // and asked for here, before any row is read.
      const masks = planMasks(productionCatalog, stagingCatalog, options.mask);
      plan = withMasks(plan, masks, { writes: options.mode !== undefined });
      // Said by a sync and its dry run, before writing; a verify writes nothing and says nothing of them: not asked.
      if (options.mode !== undefined) {
        const named = columnsNamedByRules(productionCatalog, options.mask);
        const keys = await personalKeysLeftRaw(
          plan.tables,
          // Said, never refused: a read that fails leaves the keys unnamed rather than stop the run.
          (table, column) => production.jsonKeys(table, column).catch(() => null),
          (table, column, key) => named.has(`${qualifiedName(table)}.${column}.${key}`),
        );
        plan = {
          ...plan,
          personalColumnsRaw: [
            ...personalColumnsLeftRaw(productionCatalog, plan.tables, (table, column) => named.has(`${qualifiedName(table)}.${column.name}`)),
            ...keys,
          ],
        };
      }
      const masked = plan.tables.filter((table) => table.mask);
      if (masked.length) masker = await loadMasker(maskKeyFromEnvironment(), [...masks.values()], options.mask.directory);
    }
    const stagingHeldBy = stagingMark.kind === 'marked' ? (stagingMark.heldBy ?? null) : null;
    return {
      via,
      production,
      staging,
      plan,
      masker,
      environment,
      stagingHeldBy,
      stagingMark: stagingMark as Extract<SyncTargetMark, { kind: 'marked' }>,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
