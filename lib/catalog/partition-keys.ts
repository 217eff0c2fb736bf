// A foreign key that partitions declare themselves governs only their rows,
// not the rows of partitions without it. What reads "the values this key
// holds" reads those rows, through the partitioned table (whose privileges
// the reader has, not necessarily each partition's), picked by tableoid.
import { qualifiedName, type ForeignKey } from './types.ts';
import { regclassLiteral } from '../sql/ident.ts';

/** The key for a message: its name and columns, and the partitions that declare it when they do. */
export function describeKey(foreignKey: ForeignKey): string {
  const key = `${foreignKey.name} on ${foreignKey.columns.join(', ')}`;
  if (!foreignKey.declaredOn.length) return key;
  return `${key}, declared by partitions ${foreignKey.declaredOn.map((p) => `${qualifiedName(p)} (${p.constraint})`).join(', ')}`;
}

/** A SQL condition on the table's rows that keeps those the key governs; null: all of them. */
export function rowsUnderKey(foreignKey: ForeignKey): string | null {
  if (!foreignKey.declaredOn.length) return null;
  // pg_partition_tree: a partition that is partitioned itself holds its rows in its own partitions.
  const trees = foreignKey.declaredOn.map((partition) => `SELECT relid FROM pg_catalog.pg_partition_tree(${regclassLiteral(partition)})`);
  return `tableoid IN (${trees.join(' UNION ALL ')})`;
}

/** Both conditions, either may be null (no condition). */
export function bothFilters(first: string | null, second: string | null): string | null {
  if (first === null) return second;
  return second === null ? first : `(${first}) AND (${second})`;
}
