// Whom a bucket's files belong to, as Storage keeps it in storage.objects,
// read on either side and set in staging (supasync_private.file_owners_query
// and set_file_owners_query, both paths). Storage takes a file's owner from
// the key that uploads it, and a sync uploads with the service key, which
// names no user: without these, staging's copies belong to nobody.

/** A file's owner columns, those of them this side's Storage schema has (owner_id and user_metadata came later). */
export interface FileOwner {
  name: string;
  owner?: string | null;
  owner_id?: string | null;
  user_metadata?: unknown;
}

/** What setting them did: files changed, and files whose owner staging's users lack where a foreign key ties it to them (left NULL). */
export interface OwnersSet {
  updated: number;
  unmatched: number;
}

export interface FileOwnerAccess {
  /** Why this side can neither read nor set owners (REST functions older than FILE_OWNERS_SINCE), or null when it can. */
  fileOwnersUnavailable(): Promise<string | null>;
  /** Up to `limit` of the bucket's files, by name, after `after` (null: from the first). */
  fileOwners(bucket: string, after: string | null, limit: number): Promise<FileOwner[]>;
  /** Of staging: sets these files' owners (only where they differ). */
  setFileOwners(bucket: string, owners: FileOwner[]): Promise<OwnersSet>;
}

/** The functions version that reads and sets files' owners. */
export const FILE_OWNERS_SINCE = 30;
