// Destructive runs are confirmed at a terminal, or with --yes; with neither
// (a CI job, a pipe) they are refused rather than assumed.
import { createInterface } from 'node:readline/promises';
import { UsageError } from '../errors.ts';

export function confirmer(yes: boolean): (question: string) => Promise<boolean> {
  return async (question) => {
    if (yes) return true;
    if (!process.stdin.isTTY) {
      throw new UsageError(`${question}\nThis needs confirmation and there is no terminal to ask at: run again with --yes. Nothing was changed.`);
    }
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await prompt.question(`${question}\nGo on? [y/N] `);
      return ['y', 'yes'].includes(answer.trim().toLowerCase());
    } finally {
      prompt.close();
    }
  };
}
