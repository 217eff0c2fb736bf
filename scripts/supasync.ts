#!/usr/bin/env node
// The installed `supasync` command (bundled into dist/ when the package is
// packed): `supasync sync`, `supasync verify`, ... as the scripts beside it.
// From a clone: npx tsx scripts/supasync.ts sync --dry-run
import { runMain } from '../lib/cli/main.ts';
import { runScript } from '../lib/cli/run.ts';

await runScript(() => runMain(process.argv.slice(2)));
