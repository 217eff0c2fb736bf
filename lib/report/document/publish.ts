// Where a run's report goes: the --report file, in the format its name asks
// for, and GitHub Actions' job summary when $GITHUB_STEP_SUMMARY names one.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SupasyncError } from '../../errors.ts';
import { reportFormat } from './format.ts';
import { renderHtml } from './html.ts';
import { renderMarkdown, renderStepSummary } from './markdown.ts';
import { buildReport, type RunFacts } from './model.ts';
import { secretValues, withoutSecrets } from './secrets.ts';

export interface ReportDestination {
  /** --report FILE */
  file?: string;
  /** $GITHUB_STEP_SUMMARY: a file GitHub Actions shows on the run's page, appended to by each step. */
  stepSummary?: string;
}

export async function publishReport(facts: RunFacts, destination: ReportDestination, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const report = withoutSecrets(buildReport(facts), secretValues(env));
  if (destination.file) {
    const path = resolve(destination.file);
    const text = reportFormat(path) === 'html' ? renderHtml(report) : renderMarkdown(report);
    try {
      await mkdir(dirname(path), { recursive: true });
      // Private to the user, as backups are: it names rows by their keys (an email, a user's id).
      await writeFile(path, text, { mode: 0o600 });
    } catch (error) {
      throw new SupasyncError(
        `Could not write the report to ${path}: ${(error as Error).message}. The run itself ended as printed above; choose a --report path you may write.`,
        1,
        {
          cause: error,
        },
      );
    }
  }
  if (destination.stepSummary) {
    try {
      await appendFile(destination.stepSummary, renderStepSummary(report));
    } catch (error) {
      throw new SupasyncError(
        `Could not add the status table to GITHUB_STEP_SUMMARY (${destination.stepSummary}): ${(error as Error).message}. ` +
          'The run itself ended as printed above; outside GitHub Actions, unset GITHUB_STEP_SUMMARY.',
        1,
        { cause: error },
      );
    }
  }
}
