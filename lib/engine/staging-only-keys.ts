// Foreign keys staging has and production does not hold its rows to (a
// migration staging has ahead, or production's key NOT VALID): production's
// rows may name parents production itself lacks, and copied whole they would
// break staging's key. Under the replica role nothing checks it as rows go
// in, so such rows are looked for in production, before anything is written.
import { qualifiedName } from '../catalog/types.ts';
import type { ForeignKeyLink } from '../catalog/links.ts';
import { bothFilters } from '../catalog/partition-keys.ts';
import { DatabaseError, SupasyncError, describeError } from '../errors.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import { describeOrphans } from './orphans.ts';

/** Rows along a staging-only key whose parent will be nowhere: `lacking` says where it is missing. */
export interface StagingOnlyOrphans extends FoundOrphans {
  lacking: 'production' | 'staging';
}

/**
 * Along staging's keys production lacks, from a child the run writes: the
 * rows production holds that name a parent staging will not have. A parent
 * copied whole (replace, mirror) is production's: asked there. One the run
 * leaves alone is staging's: asked there. One the run writes in part (a
 * `where`, or a mode that keeps staging's rows) holds both sides' rows: a
 * parent neither has. Masked keys are not asked (staging holds them masked).
 */
export async function orphansAlongStagingOnlyKeys(
  production: Database,
  staging: Database,
  links: ForeignKeyLink[],
  tables: TablePlan[],
): Promise<StagingOnlyOrphans[]> {
  const planned = new Map(tables.map((table) => [qualifiedName(table.table), table]));
  const found: StagingOnlyOrphans[] = [];
  for (const link of links) {
    const [child, parent] = [planned.get(qualifiedName(link.child)), planned.get(qualifiedName(link.parent))];
    if (link.heldInProduction || !link.validated || !child || child.mask || parent?.mask) continue;
    // A key over a column staging alone has (--allow-drift) names what the run leaves to staging, not production's rows.
    if (link.columns.some((column) => !child.columns.includes(column))) continue;
    const whole = parent !== undefined && !parent.rowFilter && (parent.mode === 'replace' || parent.mode === 'mirror');
    try {
      const references = await production.references(link.child, link.columns, bothFilters(child.rowFilter, link.childRows));
      const keys = Object.keys(references);
      if (!keys.length) continue;
      const ask = (side: Database, asked: string[]) => (asked.length ? side.missingKeys(link.parentRelation, link.parentColumns, asked, null) : []);
      let missing = await ask(whole ? production : staging, keys);
      if (parent && !whole) missing = await ask(production, missing);
      if (!missing.length) continue;
      found.push({
        link,
        rows: missing.reduce((sum, key) => sum + (references[key] ?? 0), 0),
        keys: missing.slice(0, 5),
        lacking: whole ? 'production' : 'staging',
      });
    } catch (error) {
      if (error instanceof SupasyncError) throw error;
      throw new DatabaseError(describeError(`Checking production's rows of ${qualifiedName(link.child)} along staging's key ${link.name}`, error), 1, {
        cause: error,
      });
    }
  }
  return found;
}

export function stagingOnlyKeysRefusal(found: StagingOnlyOrphans[]): DatabaseError {
  const where = (orphans: StagingOnlyOrphans) => (orphans.lacking === 'production' ? ' in production' : ' in production or staging');
  const outside = found.filter((orphans) => orphans.lacking === 'staging').map((orphans) => qualifiedName(orphans.link.parent));
  return new DatabaseError(
    [
      "Production's rows would break foreign keys that staging has and production lacks (or has NOT VALID); nothing was written:",
      ...found.flatMap((orphans) =>
        describeOrphans([orphans]).map((line) => line.replace(/ (finds?) no parent/, (_, verb: string) => ` ${verb} no parent${where(orphans)}`)),
      ),
      'Ways out:',
      ...(outside.length ? [`  copy ${[...new Set(outside)].join(', ')} too (--tables, or --with-parents), where production has those parents`] : []),
      '  fix those rows in production and add the key there too (the migration staging has ahead)',
      '  leave the key off staging, or add it there NOT VALID, as production has it',
      '  --exclude the referencing table',
      '  --allow-orphans  write anyway, leaving those rows pointing nowhere in staging',
    ].join('\n'),
  );
}
