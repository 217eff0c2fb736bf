// The two databases' own text settings, which no table's catalog shows: an
// encoding staging's copy cannot hold production's characters in, and a
// default collation or character classes under which lower(), upper() and
// to_tsvector() compute otherwise (ÉMILE lowered by ICU, left as it is by
// libc's C), and with them the generated columns, CHECKs and unique indexes
// built on those. Generated columns are never copied and verify leaves them
// out, so such a difference would pass unseen; the run says it before writing.
import type { Catalog, DatabaseText } from '../catalog/types.ts';

/** What differs, each as a warning; none where either side's functions are older than version 26. */
export function textDifferences(production: Catalog, staging: Catalog): string[] {
  const [ours, theirs] = [production.text, staging.text];
  if (!ours || !theirs) return [];
  const differences: string[] = [];
  if (ours.encoding !== theirs.encoding) {
    differences.push(
      `Production's database stores text as ${ours.encoding}, staging's as ${theirs.encoding}: a value staging's encoding cannot hold stops the copy ` +
        "(and what staging reads back may differ). Create staging's database with production's encoding (on Supabase both are UTF8).",
    );
  }
  if (describe(ours, sameCodeset) !== describe(theirs, sameCodeset)) {
    differences.push(
      `Production's database compares and cases text under ${describe(ours)}, staging's under ${describe(theirs)}: lower(), upper(), to_tsvector() ` +
        'and the generated columns, CHECKs and unique indexes built on them may compute otherwise in staging, which verify does not see (it leaves ' +
        "generated columns out). Create staging's database with production's locale (CREATE DATABASE ... LOCALE_PROVIDER, LOCALE).",
    );
  }
  return differences;
}

/** A locale's name with its codeset spelled one way: glibc's `en_US.UTF-8` and `en_US.utf8` are one locale. */
function sameCodeset(locale: string): string {
  return locale.replace(/\.utf-?8$/i, '.utf8');
}

function describe(text: DatabaseText, spelled: (locale: string) => string = (locale) => locale): string {
  const [collate, ctype] = [spelled(text.collate), spelled(text.ctype)];
  const classes = collate === ctype ? `LC_COLLATE and LC_CTYPE ${collate}` : `LC_COLLATE ${collate}, LC_CTYPE ${ctype}`;
  return text.provider === 'libc' ? `libc (${classes})` : `${text.provider} ${text.locale ?? ''} (${classes})`;
}
