import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { SuiteSizeSequencer } from './tests/setup/sequencer.ts';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/global.ts'],
    // Test files share one PostgreSQL server; each file makes its own
    // databases when it writes, so files may run side by side. Two at least:
    // most of a file's time is spent waiting on PostgreSQL, PostgREST and the
    // scripts it runs, so on a 2-core machine two files at once take 20%
    // less time than one after another (vitest's default there is one).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    sequence: { sequencer: SuiteSizeSequencer },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
