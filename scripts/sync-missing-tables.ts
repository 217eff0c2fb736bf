// The tables the first version left behind, or the ones named on the command line.
import { runScript } from '../lib/cli/run.ts';
import { runSyncCommand } from '../lib/cli/sync-command.ts';

await runScript(() =>
  runSyncCommand({
    name: 'npx tsx scripts/sync-missing-tables.ts',
    description:
      'Syncs the `missing` group of supasync.config.json (by default code_embeddings,\nmuva_content and guest_reservations), or the tables named as arguments.\nUpserts by default: staging-only rows stay.',
    mode: 'upsert',
    group: 'missing',
    verify: false,
    choosesTables: true,
  }),
);
