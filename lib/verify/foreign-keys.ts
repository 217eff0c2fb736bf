// Does every row of staging find the parent its foreign key names? A copy
// loaded with foreign-key checks off can hold rows that do not (a filtered
// parent, a replace the user allowed to orphan): equal counts would hide it.
// Along a key added NOT VALID production may hold such rows itself, older
// than the key: there staging's count only says something beyond
// production's.
import { qualifiedName } from '../catalog/types.ts';
import type { ForeignKeyLink } from '../catalog/links.ts';
import type { FoundOrphans } from '../plan/links.ts';
import type { Database } from '../transport/database.ts';

/**
 * Staging's foreign keys whose child is among the compared tables, and the
 * validated ones into them from tables not compared: rows a parent's sync
 * left pointing nowhere (--allow-orphans, sign-ins of users it deleted) are
 * staging's to mend, wherever they are. A key added NOT VALID from a table
 * not compared is left alone: its rows are compared with production's only
 * where the child is.
 */
export async function verifyForeignKeys(
  production: Database,
  staging: Database,
  links: ForeignKeyLink[],
  tables: string[],
): Promise<{ checked: number; orphans: FoundOrphans[] }> {
  const compared = new Set(tables);
  const checked = links.filter((link) => compared.has(qualifiedName(link.child)) || (link.validated && compared.has(qualifiedName(link.parent))));
  const answers = await staging.orphans(checked);
  const found: FoundOrphans[] = checked.flatMap((link, index) => {
    const answer = answers[index];
    return answer?.rows ? [{ link, ...answer }] : [];
  });
  const unvalidated = found.filter((orphans) => !orphans.link.validated);
  if (!unvalidated.length) return { checked: checked.length, orphans: found };
  const inProduction = await production.orphans(unvalidated.map((orphans) => orphans.link));
  const beyond = new Set(unvalidated.filter((orphans, index) => orphans.rows > (inProduction[index]?.rows ?? 0)));
  return { checked: checked.length, orphans: found.filter((orphans) => orphans.link.validated || beyond.has(orphans)) };
}
