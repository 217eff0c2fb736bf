// Everything verify compares of the rows' side: the tables, then the
// sequences, staging's foreign keys and the large objects. Over REST each
// check is round trips of its own, and they were waited out one after
// another: they are asked together now (the first failure in this order is
// the one said). Directly each side answers one query at a time anyway:
// one check after another, as before.
import { qualifiedName } from '../catalog/types.ts';
import type { ForeignKeyLink } from '../catalog/links.ts';
import type { Masker } from '../mask/apply.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { SequencePlan } from '../plan/sequences.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import { verifyForeignKeys } from './foreign-keys.ts';
import { verifyLargeObjects, type LargeObjectVerdict } from './large-objects.ts';
import { verifySequences, type SequenceVerdict } from './sequences.ts';
import { verifyTables, type TableVerdict, type VerifyOptions } from './verify.ts';

export interface StagingVerdicts {
  tables: TableVerdict[];
  sequences: SequenceVerdict[];
  /** Staging's rows, of the tables compared or referencing them, whose foreign key finds no parent. */
  orphans: FoundOrphans[];
  largeObjects: LargeObjectVerdict[];
}

export async function verifyStaging(
  production: Database,
  staging: Database,
  compared: { tables: TablePlan[]; sequences: SequencePlan[]; stagingLinks: ForeignKeyLink[] },
  options: VerifyOptions,
  masker: Masker | null,
): Promise<StagingVerdicts> {
  const together = production.asksTogether && staging.asksTogether;
  const check = <T>(started: () => Promise<T>): (() => Promise<T>) => {
    if (!together) return started;
    const answer = started();
    // Awaited in order below: a later check's failure is not left unhandled while an earlier one is awaited.
    answer.catch(() => undefined);
    return () => answer;
  };
  const tables = check(() => verifyTables(production, staging, compared.tables, options, masker));
  const sequences = check(() => verifySequences(production, staging, compared.sequences));
  const names = compared.tables.map((table) => qualifiedName(table.table));
  const foreignKeys = check(() => verifyForeignKeys(production, staging, compared.stagingLinks, names));
  const largeObjects = check(() => verifyLargeObjects(production, staging, compared.tables));
  return { tables: await tables(), sequences: await sequences(), orphans: (await foreignKeys()).orphans, largeObjects: await largeObjects() };
}
