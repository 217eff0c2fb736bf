// Copy production into staging: every table, chosen tables or a group.
import { runScript } from '../lib/cli/run.ts';
import { runSyncCommand } from '../lib/cli/sync-command.ts';

await runScript(() =>
  runSyncCommand({
    name: 'npx tsx scripts/sync.ts',
    description:
      'Copies production into staging, tables in foreign-key order (in one staging\ntransaction on the direct path: it all lands, or nothing changes).',
    mode: 'replace',
    verify: false,
    choosesTables: true,
  }),
);
