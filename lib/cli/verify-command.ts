// scripts/verify-sync-status.ts: the tables chosen as a sync chooses them,
// compared side by side (counts, checksums, keys), then their sequences and
// the rows without a parent; the exit code says whether staging is equal.
import { loadProjectConfig } from '../config/file.ts';
import { prepareRun } from '../engine/prepare.ts';
import { renderVerdicts } from '../report/verify.ts';
import { verifyForeignKeys } from '../verify/foreign-keys.ts';
import { verifySequences } from '../verify/sequences.ts';
import { verifyTables } from '../verify/verify.ts';
import { parseCommand } from './command.ts';
import { selectionFrom } from './selection.ts';

export interface VerifyCommand {
  name: string;
  description: string;
}

const AFTER = `It refuses what a sync refuses (exit 2): one database on both sides, a
staging without supasync's sync-target mark, a production that carries it,
a staging listed in protectedRefs, an empty or mistyped selection.

Exit codes: 0 every table Perfect, every sequence equal and no row without its
parent, 1 something differs,
2 usage or configuration error.`;

export async function runVerifyCommand(command: VerifyCommand): Promise<number> {
  const parsed = parseCommand({
    ...command,
    usage: '[options]',
    flags: ['tables', 'exclude', 'schemas', 'via', 'countsOnly', 'keys', 'json'],
    after: AFTER,
  });
  if (!parsed) return 0;
  const { flags } = parsed;
  const config = await loadProjectConfig();
  const run = await prepareRun({ via: flags.via, selection: selectionFrom(flags, config, flags.tables), protectedRefs: config.protectedRefs });
  try {
    const verdicts = await verifyTables(run.production, run.staging, run.plan.tables, { countsOnly: Boolean(flags.countsOnly), maxKeys: flags.keys ?? 10 });
    const sequences = await verifySequences(run.production, run.staging, run.plan.sequences);
    const { orphans } = await verifyForeignKeys(
      run.staging,
      run.plan.stagingLinks,
      verdicts.map((verdict) => verdict.table),
    );
    const equal = verdicts.every((verdict) => verdict.status === 'perfect') && sequences.every((verdict) => verdict.status === 'equal');
    const exitCode = equal && !orphans.length ? 0 : 1;
    console.log(
      flags.json
        ? JSON.stringify({ ok: exitCode === 0, exitCode, via: run.via, tables: verdicts, sequences, orphans }, null, 2)
        : renderVerdicts({ tables: verdicts, sequences, orphans }),
    );
    return exitCode;
  } finally {
    await run.close();
  }
}
