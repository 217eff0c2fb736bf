// Is staging equal to production? Row counts and content checksums, table by table.
import { runScript } from '../lib/cli/run.ts';
import { runVerifyCommand } from '../lib/cli/verify-command.ts';

await runScript(() =>
  runVerifyCommand({
    name: 'npx tsx scripts/verify-sync-status.ts',
    description:
      "Compares staging with production, table by table: row counts and a checksum\nof every row's content (computed inside each database; generated columns left\nout). Where they differ, lists the keys: changed, missing or extra in staging.\nThen the sequences the tables draw from (and, over whole schemas, those no\ncolumn uses): each must stand where production's does. And every row of the\ncompared tables must find the parent its foreign keys name.",
  }),
);
