// scripts/verify-sync-status.ts: the tables chosen as a sync chooses them,
// compared side by side (counts, checksums, keys), then their sequences and
// the rows without a parent; the exit code says whether staging is equal.
import { loadProjectConfig } from '../config/file.ts';
import { prepareRun } from '../engine/prepare.ts';
import { renderMaskAudits, renderVerdicts } from '../report/verify.ts';
import { verifyStaging } from '../verify/staging.ts';
import { foundEqual } from '../verify/verify.ts';
import { auditMasking } from '../verify/audit-masking.ts';
import { UsageError } from '../errors.ts';
import { parseCommand } from './command.ts';
import { fileChoiceFrom, refuseFilesElsewhere, rowsBesideFiles, verifyFiles } from './files-step.ts';
import { selectionFrom } from './selection.ts';
import { RunRecorder } from '../report/document/record.ts';
import { withMaskedInStaging } from '../engine/masked-staging.ts';
import { compareExtensionTables } from '../verify/extension-tables.ts';

export interface VerifyCommand {
  name: string;
  description: string;
  /** The command line after the command's name; process.argv's by default. */
  argv?: string[];
}

const AFTER = `It refuses what a sync refuses (exit 2): one database on both sides, a
staging without supasync's sync-target mark, a production that carries it,
a staging listed in protectedRefs, an empty or mistyped selection.

A masked table (supasync.config.json "mask", "maskPreset", --mask) is compared as
production-as-masked against staging: Perfect means exactly what the rules give.
--audit-masking checks instead that no raw production value of a masked column
is in staging, every value compared through hashes (exit 1 naming table, column
and key when one is).

With --allow-drift, a table whose columns differ between the sides (staging a
migration ahead) counts as equal where the columns both have are; a column
whose type staging changed is compared as staging writes it (a timestamp made
timestamptz, a numeric(10,2) made numeric(12,4)).

Exit codes: 0 every table Perfect, every sequence equal and no row without its
parent (--audit-masking: no raw value found), 1 something differs,
2 usage or configuration error.`;

export async function runVerifyCommand(command: VerifyCommand): Promise<number> {
  const parsed = parseCommand(
    {
      ...command,
      usage: '[options]',
      flags: [
        'tables',
        'exclude',
        'schemas',
        'via',
        'countsOnly',
        'keys',
        'mask',
        'auditMasking',
        'allowDrift',
        'json',
        'report',
        'storage',
        'buckets',
        'excludeBuckets',
      ],
      after: AFTER,
      describe: {
        storage:
          'also compare the files of every bucket through the Storage API (needs both projects\' URL and service key): counts, bytes and ETags per bucket, the differing paths named. Default: supasync.config.json\'s "storage" section',
      },
    },
    command.argv,
  );
  if (!parsed) return 0;
  const { flags } = parsed;
  const recorder = new RunRecorder('verify', command.name, flags.report);
  const config = await loadProjectConfig();
  const fileChoice = fileChoiceFrom(flags, config);
  const run = await prepareRun({
    via: flags.via,
    selection: rowsBesideFiles(selectionFrom(flags, config, flags.tables), fileChoice),
    protectedRefs: config.protectedRefs,
    mask: { rules: config.mask, preset: flags.mask ?? config.maskPreset, directory: config.directory },
  });
  recorder.planned(run);
  if (run.stagingHeldBy)
    process.stderr.write(`warning: a supasync run is writing this staging now (${run.stagingHeldBy}): what it has not written yet shows as differences.\n`);
  // Generated columns are left out of the comparison: what staging's locale computes otherwise there is not seen.
  for (const difference of run.plan.textDifferences) process.stderr.write(`warning: ${difference}\n`);
  try {
    // Files compared through other projects than the rows' would say nothing true.
    await refuseFilesElsewhere(run, fileChoice);
    if (flags.auditMasking) {
      if (!run.masker)
        throw new UsageError('--audit-masking: no masking rules apply (supasync.config.json "mask", "maskPreset", or --mask): nothing to audit.');
      const audits = await auditMasking(run.production, run.staging, run.plan.tables, run.masker);
      const exitCode = audits.some((audit) => audit.leaks.length) ? 1 : 0;
      console.log(flags.json ? JSON.stringify({ ok: exitCode === 0, exitCode, via: run.via, audits }, null, 2) : renderMaskAudits(audits));
      await recorder.ended({ audits, exitCode });
      return exitCode;
    }
    const [{ tables: compared, sequences, orphans, largeObjects }, stagingMasked, extensionTables] = await Promise.all([
      verifyStaging(
        run.production,
        run.staging,
        run.plan,
        { countsOnly: Boolean(flags.countsOnly), maxKeys: flags.keys ?? 10, onVerdict: recorder.onVerdict },
        run.masker,
      ),
      run.staging.maskedTables(),
      compareExtensionTables(run.production, run.staging, run.plan.extensionConfigTables, (line) => process.stderr.write(`warning: ${line}\n`)),
    ]);
    const verdicts = withMaskedInStaging(compared, run.plan.tables, stagingMasked.tables);
    const files = fileChoice.files ? await verifyFiles(run, fileChoice) : undefined;
    // --allow-drift: a table whose common columns are equal is as equal as the run that copied them could make it.
    const equal =
      verdicts.every((verdict) => foundEqual(verdict.status) || (flags.allowDrift && verdict.status === 'columns-differ')) &&
      sequences.every((verdict) => verdict.status === 'equal') &&
      largeObjects.every((verdict) => verdict.status !== 'differ') &&
      extensionTables.every((verdict) => verdict.equal) &&
      (!files || files.equal);
    const exitCode = equal && !orphans.length ? 0 : 1;
    console.log(
      flags.json
        ? JSON.stringify(
            {
              ok: exitCode === 0,
              exitCode,
              via: run.via,
              tables: verdicts,
              sequences,
              orphans,
              largeObjects,
              extensionTables,
              leftOut: run.plan.leftOut,
              stagingOnly: run.plan.stagingOnlyTables,
              ...(files ? { files: files.verdicts } : {}),
            },
            null,
            2,
          )
        : [
            renderVerdicts({
              tables: verdicts,
              sequences,
              orphans,
              largeObjects,
              extensionTables,
              acceptsDrift: Boolean(flags.allowDrift),
              leftOut: run.plan.leftOut,
              stagingOnly: run.plan.stagingOnlyTables,
              externalParents: run.plan.externalParents,
              links: run.plan.stagingLinks,
              // The config's own rules apply to the sync by themselves; the flag must be given again.
              ...(flags.mask ? { maskFlag: `--mask ${flags.mask}` } : {}),
            }),
            ...(files ? [files.output] : []),
          ].join('\n\n'),
    );
    await recorder.ended({
      verify: { tables: verdicts, sequences, orphans, largeObjects, acceptsDrift: Boolean(flags.allowDrift) },
      exitCode,
      ...(files ? { files: { verdicts: files.verdicts, notes: files.notes } } : {}),
    });
    return exitCode;
  } catch (error) {
    await recorder.failed(error);
    throw error;
  } finally {
    await run.close();
  }
}
