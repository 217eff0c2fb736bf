// The full sync: every table of the chosen schemas replaced with
// production's, then both sides' row counts side by side.
import { parseFlags, selectionFlags, SYNC_OPTIONS, viaFlag } from '../lib/cli/args.ts';
import { confirmer } from '../lib/cli/confirm.ts';
import { runScript } from '../lib/cli/run.ts';
import { prepareRun } from '../lib/engine/prepare.ts';
import { runSync } from '../lib/engine/sync.ts';
import { UsageError } from '../lib/errors.ts';
import { dryRunOutput } from '../lib/report/plan.ts';
import { progressReporter, quietReporter } from '../lib/report/progress.ts';
import { renderSyncResult } from '../lib/report/sync.ts';
import { renderVerdicts } from '../lib/report/verify.ts';
import { verifyTables } from '../lib/verify/verify.ts';

const HELP = `Usage: npx tsx scripts/sync-prod-to-staging-ultimate.ts [options]

Replaces every table of the chosen schemas in staging with production's, in
foreign-key order (one staging transaction on the direct path), then verifies:
row counts and content checksums side by side, as a status table.

  --schemas public,x     schemas to copy (default: public)
  --exclude a,b          leave these tables out
  --via rest|postgres    how to reach the databases
  --dry-run              print the plan and change nothing
  --yes, -y              do not ask before replacing (needed when not at a terminal)
  --allow-drift          copy the columns both sides share when their schemas differ
  --strict               stop at the first row staging rejects (REST); without it
                         such rows are reported by key and the rest is written
  --json                 machine-readable output on stdout
  -h, --help             this text

Exit codes: 0 synced and every table Perfect, 1 failed or differs, 2 usage
or configuration error.`;

await runScript(async () => {
  const { values } = parseFlags(SYNC_OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.tables || values.mode) {
    throw new UsageError('The full sync copies every table in replace mode: for chosen tables or upserts use scripts/sync.ts.');
  }
  const run = await prepareRun({ via: viaFlag(values.via), selection: selectionFlags(values) });
  try {
    if (values['dry-run']) {
      console.log(dryRunOutput(run, 'replace', Boolean(values.json)));
      return 0;
    }
    const result = await runSync(
      run,
      { mode: 'replace', allowDrift: Boolean(values['allow-drift']), strict: Boolean(values.strict), confirm: confirmer(Boolean(values.yes)) },
      values.json ? quietReporter() : progressReporter(),
    );
    const synced = run.plan.tables.filter((t) => !result.skipped.some((s) => s.table === `${t.table.schema}.${t.table.name}`));
    const verdicts = await verifyTables(run.production, run.staging, synced, { countsOnly: false, maxKeys: 10 });
    if (values.json) console.log(JSON.stringify({ ...result, verify: verdicts }, null, 2));
    else console.log(`${renderSyncResult(result)}\n\n${renderVerdicts(verdicts)}`);
    const rejected = result.tables.some((table) => table.rejected.length);
    return verdicts.every((v) => v.status === 'perfect') && !result.skipped.length && !rejected ? 0 : 1;
  } finally {
    await run.close();
  }
});
