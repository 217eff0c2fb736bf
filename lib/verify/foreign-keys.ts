// Does every row of staging find the parent its foreign key names? A copy
// loaded with foreign-key checks off can hold rows that do not (a filtered
// parent, a replace the user allowed to orphan): equal counts would hide it.
import { qualifiedName } from '../catalog/types.ts';
import type { ForeignKeyLink } from '../catalog/links.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { Database } from '../transport/database.ts';

/** Staging's foreign keys whose child is among the compared tables. */
export async function verifyForeignKeys(staging: Database, links: ForeignKeyLink[], tables: string[]): Promise<{ checked: number; orphans: FoundOrphans[] }> {
  const compared = new Set(tables);
  const checked = links.filter((link) => compared.has(qualifiedName(link.child)));
  const answers = await staging.orphans(checked);
  const orphans: FoundOrphans[] = checked.flatMap((link, index) => {
    const answer = answers[index];
    return answer?.rows ? [{ link, ...answer }] : [];
  });
  return { checked: checked.length, orphans };
}
