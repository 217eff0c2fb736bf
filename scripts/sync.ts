// Copy production into staging. With --dry-run: print the plan, change nothing.
import { COMMON_OPTIONS, listFlag, parseFlags, viaFlag } from '../lib/cli/args.ts';
import { runScript } from '../lib/cli/run.ts';
import { UsageError } from '../lib/errors.ts';
import { prepareRun } from '../lib/engine/prepare.ts';
import { renderPlan } from '../lib/report/plan.ts';

const HELP = `Usage: npx tsx scripts/sync.ts [options]

Copies production into staging, tables in foreign-key order.

  --dry-run              print the plan (tables, order, keys, drift) and change nothing
  --tables a,b           only these tables (name or schema.name)
  --exclude a,b          leave these tables out
  --schemas public,x     schemas to copy (default: public)
  --via rest|postgres    how to reach the databases (default: postgres when both
                         SUPABASE_*_DB_URL are set, else REST)
  --json                 machine-readable output
  --debug                stack traces on errors
  -h, --help             this text

Configuration comes from .env.local, then .env: SUPABASE_PROD_URL,
SUPABASE_PROD_SERVICE_ROLE_KEY, SUPABASE_PROD_DB_URL and the same for STAGING.
Exit codes: 0 done, 1 failed, 2 usage or configuration error.`;

await runScript(async () => {
  const { values } = parseFlags({ ...COMMON_OPTIONS, 'dry-run': { type: 'boolean' } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!values['dry-run']) {
    throw new UsageError('This version can only plan: run with --dry-run. Copying arrives with the sync engine.');
  }
  const run = await prepareRun({
    via: viaFlag(values.via),
    selection: {
      schemas: listFlag(values.schemas) ?? ['public'],
      tables: listFlag(values.tables),
      exclude: listFlag(values.exclude),
    },
  });
  try {
    if (values.json) console.log(JSON.stringify({ via: run.via, plan: run.plan }, null, 2));
    else {
      const heading = `Plan (dry run, nothing written): ${run.production.location} -> ${run.staging.location}, via ${run.via}`;
      console.log(renderPlan(run.plan, heading));
    }
    return 0;
  } finally {
    await run.close();
  }
});
