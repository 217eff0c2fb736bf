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

/** Along staging's keys production lacks, with both ends written and the parent copied whole: the rows production holds that name no parent there. */
export async function orphansAlongStagingOnlyKeys(production: Database, links: ForeignKeyLink[], tables: TablePlan[]): Promise<FoundOrphans[]> {
  const planned = new Map(tables.map((table) => [qualifiedName(table.table), table]));
  const found: FoundOrphans[] = [];
  for (const link of links) {
    const [child, parent] = [planned.get(qualifiedName(link.child)), planned.get(qualifiedName(link.parent))];
    if (link.heldInProduction || !link.validated || !child || !parent || parent.rowFilter || (parent.mode !== 'replace' && parent.mode !== 'mirror')) continue;
    try {
      const references = await production.references(link.child, link.columns, bothFilters(child.rowFilter, link.childRows));
      const keys = Object.keys(references);
      if (!keys.length) continue;
      const missing = await production.missingKeys(link.parentRelation, link.parentColumns, keys, null);
      if (missing.length) found.push({ link, rows: missing.reduce((sum, key) => sum + (references[key] ?? 0), 0), keys: missing.slice(0, 5) });
    } catch (error) {
      if (error instanceof SupasyncError) throw error;
      throw new DatabaseError(describeError(`Checking production's rows of ${qualifiedName(link.child)} along staging's key ${link.name}`, error), 1, {
        cause: error,
      });
    }
  }
  return found;
}

export function stagingOnlyKeysRefusal(found: FoundOrphans[]): DatabaseError {
  return new DatabaseError(
    [
      "Production's rows would break foreign keys that staging has and production lacks (or has NOT VALID); nothing was written:",
      ...describeOrphans(found).map((line) =>
        line.replace(' find no parent', ' find no parent in production').replace(' finds no parent', ' finds no parent in production'),
      ),
      'Ways out:',
      '  fix those rows in production and add the key there too (the migration staging has ahead)',
      '  leave the key off staging, or add it there NOT VALID, as production has it',
      '  --exclude the referencing table',
      '  --allow-orphans  write anyway, leaving those rows pointing nowhere in staging',
    ].join('\n'),
  );
}
