// The full sync: every table of the configured schemas replaced with
// production's, then verified table by table.
import { runScript } from '../lib/cli/run.ts';
import { runSyncCommand } from '../lib/cli/sync-command.ts';

await runScript(() =>
  runSyncCommand({
    name: 'npx tsx scripts/sync-prod-to-staging-ultimate.ts',
    description:
      "Replaces every table of the chosen schemas in staging with production's, in\nforeign-key order (one staging transaction on the direct path), then verifies:\nrow counts and content checksums side by side, as a status table.",
    mode: 'replace',
    verify: true,
    choosesTables: false,
  }),
);
