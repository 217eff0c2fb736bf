// What verify says of a table, whichever way it compared it (verify.ts, masked.ts).

/** `counts-equal`: --counts-only found the same number of rows, and compared no value: not called Perfect. */
export type VerifyStatus = 'perfect' | 'counts-equal' | 'counts-differ' | 'content-differs' | 'missing-table' | 'columns-differ';

/** Nothing found to differ: Perfect, or equal counts where only counts were compared. */
export const foundEqual = (status: VerifyStatus): boolean => status === 'perfect' || status === 'counts-equal';

export interface KeyDifferences {
  /** As `ROW(key columns)::text`: in production, not in staging. */
  missing: string[];
  extra: string[];
  changed: string[];
  /** More differences exist than are listed. */
  more: boolean;
  /** Differing key buckets were left unread once enough keys were listed: which kinds of difference they hold is not known. */
  unread?: boolean;
  /** How many keys of each kind were found (all of them where nothing was left unread); the lists hold the first maxKeys. */
  found: { missing: number; extra: number; changed: number };
}

export interface TableVerdict {
  table: string;
  keyColumns: string[];
  production: number;
  staging: number | null;
  status: VerifyStatus;
  differences?: KeyDifferences;
  /** Compared as production-as-masked (masked.ts): a sync rewrites it by replace or upsert, not by a mirror. */
  masked?: boolean;
  /** How the two sides' columns differ (plan/drift.ts), where they do: only the common columns were compared. */
  drift?: string[];
  /** --allow-drift copies past that drift only where no production row needs an enum label or partition staging lacks. */
  driftAskedOfRows?: boolean;
  /** Why --allow-drift refuses some of that drift too (a composite type defined otherwise, a type that would change values unsaid). */
  driftRefused?: string;
  /**
   * Staging holds these columns masked (an earlier masked sync), and this verify compared them raw: a sync without
   * that masking is refused for them (engine/masked-staging.ts). `masking`: the flags and rules that masked them.
   */
  maskedInStaging?: { columns: string[]; maskedAt: string; masking: string };
  /** The copied columns are equal; these generated ones, which staging computes itself, are not (the differences are theirs). */
  generatedDiffer?: string[];
}
