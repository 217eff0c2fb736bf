// The backup one sync run takes, from the moment its directory exists to the
// run's end. Until staging may have changed, the backup is a copy of a
// staging that is still there: it restores nothing and holds personal data,
// so a run that fails, is refused or is stopped (SIGINT, SIGTERM: see
// lib/interrupt.ts) removes it.
// From the first write staging may keep, it is what staging's old rows
// survive in: kept whatever happens, and named when the run fails.
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeBackupRoot, makePrivateDirectory } from './files.ts';
import { printablePath } from './manifest.ts';
import { onInterrupt } from '../interrupt.ts';
import { commandLine, shellWord } from '../invocation.ts';

export class RunBackup {
  private made: string | null = null;
  private stagingChanged: () => boolean = () => false;
  /** Set while a stop (Ctrl-C, SIGTERM) must see to the directory. */
  private unwatch: (() => void) | null = null;

  /** `root`: .supasync/backups under the directory the scripts run from. */
  constructor(readonly root: string) {}

  /**
   * How to tell, when the run stops, whether staging may keep any of its
   * writes: the session knows (SyncSession.stagingMayHaveChanged).
   */
  followStaging(changed: () => boolean): void {
    this.stagingChanged = changed;
  }

  /** The backup's directory once a writer made it; null before, and after it was removed. */
  get directory(): string | null {
    return this.made;
  }

  /** Makes the run's directory (private: see files.ts); a stop from here on removes it until staging changes. */
  async makeDirectory(name: string): Promise<string> {
    const directory = join(this.root, name);
    await makeBackupRoot(this.root);
    // Watched once made, not before: a directory already there (EEXIST) is another run's.
    await makePrivateDirectory(directory);
    this.made = directory;
    this.unwatch = onInterrupt(() => this.onStop());
    return directory;
  }

  /** Removes the directory and all in it: a writer that failed, or a run that failed before staging changed. */
  async discard(): Promise<void> {
    const directory = this.made;
    if (!directory) return;
    await rm(directory, { recursive: true, force: true });
    this.made = null;
    this.stopWatching();
  }

  /** The run succeeded: the backup stays, and a stop from now on is none of its business. */
  settle(): void {
    this.stopWatching();
  }

  private stopWatching(): void {
    this.unwatch?.();
    this.unwatch = null;
  }

  /**
   * After a failed run: removes the backup when staging cannot have changed,
   * and says what became of it either way (null: there was none).
   */
  async afterFailure(): Promise<string | null> {
    const directory = this.made;
    this.stopWatching();
    if (!directory) return null;
    if (this.stagingChanged()) return keptLine(directory);
    try {
      await this.discard();
      return `The backup this run took of staging (${printablePath(directory)}) was removed: staging was not changed, so it had nothing to restore.`;
    } catch (error) {
      return (
        `The backup this run took of staging is of no use (staging was not changed) but could not be removed (${(error as Error).message}): ` +
        `it holds staging's personal data, remove it yourself: rm -rf ${printablePath(directory)}`
      );
    }
  }

  /** When the run is stopped: what became of the backup, said with the rest of the stop's message. */
  private onStop(): string | undefined {
    const directory = this.made;
    if (!directory) return undefined;
    if (this.stagingChanged()) return keptLine(directory);
    try {
      rmSync(directory, { recursive: true, force: true });
    } catch (error) {
      return `Could not remove this run's backup of staging (${(error as Error).message}): it holds staging's personal data, rm -rf ${printablePath(directory)}`;
    }
    this.made = null;
    return `Stopped before staging was changed: removed this run's backup of staging (${printablePath(directory)}).`;
  }
}

function keptLine(directory: string): string {
  const path = printablePath(directory);
  return `Staging's rows from before this run are in ${path}: restore them with ${commandLine('restore', shellWord(path))}`;
}
