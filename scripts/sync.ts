// Copy production into staging, or with --dry-run print the plan only.
import { modeFlag, parseFlags, selectionFlags, SYNC_OPTIONS, viaFlag } from '../lib/cli/args.ts';
import { confirmer } from '../lib/cli/confirm.ts';
import { runScript } from '../lib/cli/run.ts';
import { prepareRun } from '../lib/engine/prepare.ts';
import { runSync } from '../lib/engine/sync.ts';
import { dryRunOutput } from '../lib/report/plan.ts';
import { progressReporter, quietReporter } from '../lib/report/progress.ts';
import { renderSyncResult } from '../lib/report/sync.ts';

const HELP = `Usage: npx tsx scripts/sync.ts [options]

Copies production into staging, tables in foreign-key order, in one staging
transaction: it all lands, or nothing changes.

  --mode replace|upsert  replace (default): staging's tables become production's;
                         upsert: insert new rows, update changed ones, keep staging-only rows
  --tables a,b           only these tables (name or schema.name)
  --exclude a,b          leave these tables out
  --schemas public,x     schemas to copy (default: public)
  --via rest|postgres    how to reach the databases (default: postgres when both
                         SUPABASE_*_DB_URL are set, else REST)
  --dry-run              print the plan (tables, order, keys, drift) and change nothing
  --yes, -y              do not ask before replacing (needed when not at a terminal)
  --allow-drift          copy the columns both sides share when their schemas differ
  --strict               stop at the first row staging rejects (REST); without it
                         such rows are reported by key and the rest is written
  --json                 machine-readable output on stdout
  --debug                stack traces on errors
  -h, --help             this text

Configuration comes from .env.local, then .env: SUPABASE_PROD_URL,
SUPABASE_PROD_SERVICE_ROLE_KEY, SUPABASE_PROD_DB_URL and the same for STAGING.
Exit codes: 0 done, 1 failed (staging unchanged), 2 usage or configuration error.`;

await runScript(async () => {
  const { values } = parseFlags(SYNC_OPTIONS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const mode = modeFlag(values.mode, 'replace');
  const run = await prepareRun({ via: viaFlag(values.via), selection: selectionFlags(values) });
  try {
    if (values['dry-run']) {
      console.log(dryRunOutput(run, mode, Boolean(values.json)));
      return 0;
    }
    const result = await runSync(
      run,
      { mode, allowDrift: Boolean(values['allow-drift']), strict: Boolean(values.strict), confirm: confirmer(Boolean(values.yes)) },
      values.json ? quietReporter() : progressReporter(),
    );
    console.log(values.json ? JSON.stringify(result, null, 2) : renderSyncResult(result));
    return result.tables.some((table) => table.rejected.length) ? 1 : 0;
  } finally {
    await run.close();
  }
});
