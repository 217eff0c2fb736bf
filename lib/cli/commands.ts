// The commands supasync has, as the installed `supasync` bin names them and
// as scripts/*.ts run them from a clone: one description each, so `supasync
// sync --help` and `npx tsx scripts/sync.ts --help` cannot drift apart.
// Each command's module is loaded only when it runs: `supasync --help` reads
// none of them (nor supabase-js, pg or zod), and answers at once.
import type { CommandName } from '../invocation.ts';

export interface CommandEntry {
  /** One line for `supasync --help`. */
  summary: string;
  /** Runs the command as `name` (how --help and errors call it) on these arguments; resolves to the exit code. */
  run(name: string, argv?: string[]): Promise<number>;
}

export const SYNC_DESCRIPTION =
  'Copies production into staging, tables in foreign-key order (in one staging\ntransaction on the direct path: it all lands, or nothing changes).';

export const VERIFY_DESCRIPTION =
  "Compares staging with production, table by table: row counts and a checksum\nof every row's content (computed inside each database; generated columns left\nout). Where they differ, lists the keys: changed, missing or extra in staging.\nThen the sequences the tables draw from (and, over whole schemas, those no\ncolumn uses): each must stand where production's does. And every row of the\ncompared tables must find the parent its foreign keys name.";

export const RESTORE_DESCRIPTION =
  "Puts staging's tables back as they were before a sync emptied them (replace,\nand the sign-ins a mirror ends) or wrote into them (the other modes), from the\nbackup it took (.supasync/backups/<time>-<staging>/, printed by the sync):\ntables emptied, the saved rows written back, sequences set back. Rows written\nto those tables since the backup are deleted, the rows an upsert inserted too.\nProduction is never opened.";

export const INSTALL_DESCRIPTION = "Installs the SQL functions supasync's REST path calls (supabase/migrations/).";

export const COMMANDS: Record<CommandName, CommandEntry> = {
  sync: {
    summary: 'copy production into staging: every table, --tables, or a --group of supasync.config.json (--verify after)',
    run: async (name, argv) =>
      (await import('./sync-command.ts')).runSyncCommand({ name, argv, description: SYNC_DESCRIPTION, mode: 'replace', verify: false, choosesTables: true }),
  },
  verify: {
    summary: 'is staging equal to production? counts, content checksums, sequences, foreign keys (exit 1 when not)',
    run: async (name, argv) => (await import('./verify-command.ts')).runVerifyCommand({ name, argv, description: VERIFY_DESCRIPTION }),
  },
  restore: {
    summary: "put staging's tables back from the backup a sync took (--list shows them)",
    run: async (name, argv) => (await import('./restore-command.ts')).runRestoreCommand({ name, argv, description: RESTORE_DESCRIPTION }),
  },
  'install-rpcs': {
    summary: "install supasync's SQL functions in a project, and mark staging as the sync target",
    run: async (name, argv) => (await import('./install-command.ts')).runInstallCommand({ name, argv, description: INSTALL_DESCRIPTION }),
  },
};
