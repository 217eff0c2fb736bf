// What a sync or verify command tells its report as it goes: the plan once
// made, each table as it finishes, how it ended. Light to load: the
// renderers are loaded only when a report is asked for (--report, or
// $GITHUB_STEP_SUMMARY set) and the run ends.
import type { SyncEvents, TableResult } from '../../engine/sync.ts';
import { SupasyncError } from '../../errors.ts';
import type { TableVerdict } from '../../verify/verify.ts';
import type { RunFacts, VerifyFacts } from './model.ts';

/** How the run ended, as the command knows it; `files` only with --storage (or --buckets). */
export type RunEnd = Pick<RunFacts, 'result' | 'files' | 'audits' | 'exitCode'> & { verify?: Omit<VerifyFacts, 'seconds'> };

export class RunRecorder {
  readonly #kind: RunFacts['kind'];
  readonly #command: string;
  readonly #file: string | undefined;
  readonly #startedAt = new Date();
  readonly #finished: TableResult[] = [];
  readonly #verifySeconds = new Map<string, number>();
  #run: RunFacts['run'] | undefined;
  #dryRun = false;
  #published = false;

  /** `file`: --report's. */
  constructor(kind: RunFacts['kind'], command: string, file: string | undefined) {
    this.#kind = kind;
    this.#command = command;
    this.#file = file;
  }

  /** From here on a failure is reported too: the plan is there to tell. */
  planned(run: RunFacts['run'], options: { dryRun?: boolean } = {}): void {
    this.#run = run;
    this.#dryRun = Boolean(options.dryRun);
  }

  /** `events`, also noting each table as it finishes, for a run that fails later. */
  events(events: SyncEvents): SyncEvents {
    return {
      ...events,
      tableFinished: (table, result) => {
        this.#finished.push(result);
        events.tableFinished(table, result);
      },
    };
  }

  /** For verifyTables' onVerdict: each table's comparison time, for the chart. */
  readonly onVerdict = (verdict: TableVerdict, seconds: number): void => {
    this.#verifySeconds.set(verdict.table, seconds);
  };

  async ended(end: RunEnd, failure?: string): Promise<void> {
    const stepSummary = process.env.GITHUB_STEP_SUMMARY?.trim() || undefined;
    if (!this.#run || this.#published || !(this.#file || stepSummary)) return;
    this.#published = true;
    const { publishReport } = await import('./publish.ts');
    const { verify, ...rest } = end;
    await publishReport(
      {
        ...rest,
        kind: this.#kind,
        command: this.#command,
        startedAt: this.#startedAt,
        finishedAt: new Date(),
        run: this.#run,
        dryRun: this.#dryRun,
        finished: this.#finished,
        ...(verify ? { verify: { ...verify, seconds: this.#verifySeconds } } : {}),
        ...(failure ? { failure } : {}),
      },
      { file: this.#file, stepSummary },
    );
  }

  /**
   * The run stopped on `error`: the report says so, with what it had done.
   * A report that cannot be written then is said on stderr, and the run's
   * own error is the one that ends it.
   */
  async failed(error: unknown): Promise<void> {
    const known = error instanceof SupasyncError;
    const message = known ? error.message : `Unexpected error: ${(error as Error)?.message ?? String(error)}`;
    try {
      await this.ended({ exitCode: known ? error.exitCode : 1 }, message);
    } catch (reportError) {
      console.error((reportError as Error).message);
    }
  }
}
