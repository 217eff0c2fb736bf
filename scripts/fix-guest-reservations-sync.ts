// guest_reservations: its generated column left out, every failing row
// reported by key, then the table verified.
import { runScript } from '../lib/cli/run.ts';
import { runSyncCommand } from '../lib/cli/sync-command.ts';

await runScript(() =>
  runSyncCommand({
    name: 'npx tsx scripts/fix-guest-reservations-sync.ts',
    description:
      "Syncs guest_reservations (upsert by default). Its generated column\naccommodation_unit_id_key is computed by staging, never written. Over REST a row\nstaging rejects is reported with its id and PostgreSQL's message and the others\nare written; then the table is verified against production.",
    mode: 'upsert',
    group: 'guest-reservations',
    verify: true,
    choosesTables: false,
  }),
);
