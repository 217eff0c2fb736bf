// Put staging's tables back as a sync found them, from the backup it took;
// or list the backups there are.
import { runRestoreCommand } from '../lib/cli/restore-command.ts';
import { runScript } from '../lib/cli/run.ts';

await runScript(() =>
  runRestoreCommand({
    name: 'npx tsx scripts/restore-staging.ts',
    description:
      "Puts staging's tables back as they were before a sync emptied them (replace)\nor wrote into them (upsert), from the backup it took\n(.supasync/backups/<time>-<staging>/, printed by the sync): tables emptied,\nthe saved rows written back, sequences set back. Rows written to those tables\nsince the backup are deleted, the rows an upsert inserted too. Production is\nnever opened.",
  }),
);
