// Large objects (pg_largeobject) live outside the tables: a row holds only an
// `oid` column's number, and a copy of the rows carries that number, not the
// object. supasync does not copy them. A sync says which columns name some
// (engine/large-objects.ts); verify compares their contents where it can
// read them, directly, and says over REST that it cannot.
import { bothFilters } from '../catalog/partition-keys.ts';
import { qualifiedName } from '../catalog/types.ts';
import { describeError } from '../errors.ts';
import type { TablePlan } from '../plan/types.ts';
import { quoteIdent } from '../sql/ident.ts';
import type { Database } from '../transport/database.ts';

/** A column of production's rows naming large objects there, and their numbers. */
export interface NamedLargeObjects {
  table: string;
  column: string;
  oids: string[];
}

export interface LargeObjectVerdict extends Omit<NamedLargeObjects, 'oids'> {
  /** How many large objects production's rows name in this column. */
  objects: number;
  status: 'equal' | 'differ' | 'not-compared';
  /** Numbers whose object staging lacks or holds otherwise (the first ten), and how many in all. */
  differing: string[];
  differingCount: number;
  /** Why not compared. */
  reason?: string;
}

/** Per column of `largeObjectColumns`, the large objects production's copied rows name (none: not listed). */
export async function largeObjectsNamed(production: Database, tables: TablePlan[]): Promise<NamedLargeObjects[]> {
  const found: NamedLargeObjects[] = [];
  for (const table of tables) {
    // A masked column holds in staging what its mask made of the number, not the number.
    const masked = new Set(table.mask?.columns.map((rule) => rule.column) ?? []);
    for (const column of table.largeObjectColumns.filter((name) => !masked.has(name))) {
      const named = `${quoteIdent(column)} IN (SELECT lo.oid FROM pg_catalog.pg_largeobject_metadata AS lo)`;
      const values = await production.references(table.table, [column], bothFilters(table.rowFilter, named));
      // Each value comes back as its row's text: (424242).
      const oids = Object.keys(values).map((value) => value.replace(/^\(|\)$/g, ''));
      if (oids.length) found.push({ table: qualifiedName(table.table), column, oids });
    }
  }
  return found;
}

export async function verifyLargeObjects(production: Database, staging: Database, tables: TablePlan[]): Promise<LargeObjectVerdict[]> {
  const named = await largeObjectsNamed(production, tables);
  const verdicts: LargeObjectVerdict[] = [];
  for (const { table, column, oids } of named) {
    const verdict = { table, column, objects: oids.length, differing: [], differingCount: 0 };
    if (production.via !== 'postgres' || staging.via !== 'postgres') {
      verdicts.push({ ...verdict, status: 'not-compared', reason: "over REST a large object is read by its owner alone, not through supasync's functions" });
      continue;
    }
    try {
      const [ours, theirs] = await Promise.all([digests(production, oids), digests(staging, oids)]);
      const differing = oids.filter((oid) => ours.get(oid) !== theirs.get(oid)).sort((a, b) => Number(a) - Number(b));
      verdicts.push({ ...verdict, status: differing.length ? 'differ' : 'equal', differing: differing.slice(0, 10), differingCount: differing.length });
    } catch (error) {
      verdicts.push({ ...verdict, status: 'not-compared', reason: describeError('reading them', error).split('\n')[0] });
    }
  }
  return verdicts;
}

/** Each object's md5, by number; one the database lacks is absent. */
async function digests(database: Extract<Database, { via: 'postgres' }>, oids: string[]): Promise<Map<string, string>> {
  const { rows } = await database.client.query<{ oid: string; digest: string }>(
    `SELECT o::text AS oid, pg_catalog.md5(pg_catalog.lo_get(o)) AS digest FROM pg_catalog.unnest($1::oid[]) AS o
     WHERE o IN (SELECT lo.oid FROM pg_catalog.pg_largeobject_metadata AS lo)`,
    [oids],
  );
  return new Map(rows.map((row) => [row.oid, row.digest]));
}
