// Is staging equal to production? Row counts and content checksums, table by table.
import { COMMON_OPTIONS, listFlag, parseFlags, selectionFrom, viaFlag } from '../lib/cli/args.ts';
import { loadProjectConfig } from '../lib/config/file.ts';
import { runScript } from '../lib/cli/run.ts';
import { UsageError } from '../lib/errors.ts';
import { prepareRun } from '../lib/engine/prepare.ts';
import { renderVerdicts } from '../lib/report/verify.ts';
import { verifyForeignKeys } from '../lib/verify/foreign-keys.ts';
import { verifySequences } from '../lib/verify/sequences.ts';
import { verifyTables } from '../lib/verify/verify.ts';

const HELP = `Usage: npx tsx scripts/verify-sync-status.ts [options]

Compares staging with production, table by table: row counts and a checksum
of every row's content (computed inside each database; generated columns left
out). Where they differ, lists the keys: changed, missing or extra in staging.
Then the sequences the tables draw from (and, over whole schemas, those no
column uses): each must stand where production's does. And every row of the
compared tables must find the parent its foreign keys name.

  --tables a,b           only these tables (name or schema.name)
  --exclude a,b          leave these tables out
  --schemas public,x     schemas to compare (default: public, or supasync.config.json's)
  --via rest|postgres    how to reach the databases
  --counts-only          compare row counts only (faster, blind to changed values)
  --keys N               differing keys to list per table (default 10)
  --json                 machine-readable output
  -h, --help             this text

It refuses what a sync refuses (exit 2): one database on both sides, a
staging without supasync's sync-target mark, a production that carries it,
a staging listed in protectedRefs, an empty or mistyped selection.

Exit codes: 0 every table Perfect, every sequence equal and no row without its
parent, 1 something differs,
2 usage or configuration error.`;

await runScript(async () => {
  const { values } = parseFlags({ ...COMMON_OPTIONS, 'counts-only': { type: 'boolean' }, keys: { type: 'string' } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const maxKeys = values.keys === undefined ? 10 : Number(values.keys);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new UsageError(`--keys ${values.keys}: give a whole number`);
  const config = await loadProjectConfig();
  const run = await prepareRun({
    via: viaFlag(values.via),
    selection: selectionFrom(values, config, listFlag('tables', values.tables)),
    protectedRefs: config.protectedRefs,
  });
  try {
    const verdicts = await verifyTables(run.production, run.staging, run.plan.tables, {
      countsOnly: Boolean(values['counts-only']),
      maxKeys,
    });
    const sequences = await verifySequences(run.production, run.staging, run.plan.sequences);
    const { orphans } = await verifyForeignKeys(run.staging, run.plan.stagingLinks, verdicts.map((verdict) => verdict.table));
    const equal = verdicts.every((verdict) => verdict.status === 'perfect') && sequences.every((verdict) => verdict.status === 'equal');
    const exitCode = equal && !orphans.length ? 0 : 1;
    console.log(
      values.json
        ? JSON.stringify({ ok: exitCode === 0, exitCode, via: run.via, tables: verdicts, sequences, orphans }, null, 2)
        : renderVerdicts({ tables: verdicts, sequences, orphans }),
    );
    return exitCode;
  } finally {
    await run.close();
  }
});
