// Whom staging's copies of production's files belong to. Storage writes a
// file's row as it takes the file, with the uploading key's user as its
// owner, and a sync uploads with the service key: so after each bucket's
// files, production's owner columns (owner, owner_id, user_metadata) are
// read on both sides and set in staging where they differ. Policies such as
// `owner_id = (select auth.uid())::text` then let staging's users at the
// files production's let them at.
import type { OwnersOutcome } from '../storage/copy.ts';
import type { FileOwner, FileOwnerAccess } from '../transport/file-owners.ts';

/** Files a request reads; their rows are a few hundred bytes, more with custom metadata. */
const OWNERS_PAGE = 1_000;
/** Files a request sets. */
const OWNERS_PER_WRITE = 500;
const OWNER_COLUMNS = ['owner', 'owner_id', 'user_metadata'] as const;

/** Every file of the bucket on one side, by name. */
export async function readOwners(side: FileOwnerAccess, bucket: string): Promise<Map<string, FileOwner>> {
  const owners = new Map<string, FileOwner>();
  for (let after: string | null = null; ;) {
    const page = await side.fileOwners(bucket, after, OWNERS_PAGE);
    for (const file of page) owners.set(file.name, file);
    if (page.length < OWNERS_PAGE) return owners;
    after = page[page.length - 1]!.name;
  }
}

/** The owner columns both sides' Storage schemas have are equal (jsonb prints an object's keys in one order on both). */
function sameOwner(production: FileOwner, staging: FileOwner): boolean {
  return OWNER_COLUMNS.every(
    (column) => !(column in production) || !(column in staging) || JSON.stringify(production[column] ?? null) === JSON.stringify(staging[column] ?? null),
  );
}

/**
 * Production's owners of the files whose owner staging holds otherwise: of `only` alone when given. A file staging
 * lacks counts as one with no owner where `absentAsEmpty` (a dry run, before the files are copied), else is left out.
 */
export function differingOwners(
  production: Map<string, FileOwner>,
  staging: Map<string, FileOwner>,
  options: { only?: string[] | null; absentAsEmpty?: boolean } = {},
): FileOwner[] {
  const names = options.only ?? [...production.keys()];
  const differing: FileOwner[] = [];
  for (const name of names) {
    const theirs = production.get(name);
    const ours = staging.get(name) ?? (options.absentAsEmpty ? { name, owner: null, owner_id: null, user_metadata: null } : undefined);
    if (theirs && ours && !sameOwner(theirs, ours)) differing.push(theirs);
  }
  return differing;
}

/** Sets staging's owners of the bucket's files to production's where they differ (`only`: of these files alone). */
export async function carryOwners(
  production: FileOwnerAccess,
  staging: FileOwnerAccess,
  bucket: string,
  options: { only?: string[] | null; dryRun?: boolean } = {},
): Promise<OwnersOutcome> {
  const [theirs, ours] = await Promise.all([readOwners(production, bucket), readOwners(staging, bucket)]);
  const differing = differingOwners(theirs, ours, { only: options.only, absentAsEmpty: options.dryRun });
  if (options.dryRun) return { set: differing.length, unmatched: 0 };
  const outcome: OwnersOutcome = { set: 0, unmatched: 0 };
  for (let start = 0; start < differing.length; start += OWNERS_PER_WRITE) {
    const { updated, unmatched } = await staging.setFileOwners(bucket, differing.slice(start, start + OWNERS_PER_WRITE));
    outcome.set += updated;
    outcome.unmatched += unmatched;
  }
  return outcome;
}

/** The paths of the files both sides hold whose owners differ, for verify. */
export async function ownerDifferences(production: FileOwnerAccess, staging: FileOwnerAccess, bucket: string): Promise<string[]> {
  const [theirs, ours] = await Promise.all([readOwners(production, bucket), readOwners(staging, bucket)]);
  return differingOwners(theirs, ours).map((file) => file.name);
}
