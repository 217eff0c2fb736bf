// Row counts on both sides, table by table: the seed's status table.
import { qualifiedName, type TableRef } from '../catalog/types.ts';
import type { Database } from '../transport/database.ts';

export interface CountComparison {
  table: string;
  production: number;
  staging: number;
  equal: boolean;
}

export async function compareCounts(production: Database, staging: Database, tables: TableRef[]): Promise<CountComparison[]> {
  const comparisons: CountComparison[] = [];
  for (const table of tables) {
    const [productionRows, stagingRows] = await Promise.all([production.countRows(table), staging.countRows(table)]);
    comparisons.push({
      table: qualifiedName(table),
      production: productionRows,
      staging: stagingRows,
      equal: productionRows === stagingRows,
    });
  }
  return comparisons;
}
