// Which test files start first, two at a time. vitest starts the longest
// files first when an earlier run's durations are cached, and the largest
// files first when none is (a fresh CI checkout). The e2e files are a few
// lines each that run a suite of tests/e2e/ over one transport: by their own
// size the longest of them would start last, and the run would end on them
// alone. Here a file weighs its own bytes and those of the suites it runs.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export class SuiteSizeSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const weights = new Map(files.map((file) => [file.moduleId, weight(file.moduleId)]));
    return [...files].sort((a, b) => (weights.get(b.moduleId) ?? 0) - (weights.get(a.moduleId) ?? 0));
  }
}

function weight(path: string): number {
  const text = readFileSync(path, 'utf8');
  const suites = [...text.matchAll(/from '(\.\/e2e\/[^']+)'/g)].map((match) => resolve(dirname(path), match[1] as string));
  return suites.reduce((bytes, suite) => bytes + statSync(suite).size, text.length);
}
