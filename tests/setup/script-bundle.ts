// The scripts of scripts/, compiled once per test run by esbuild (as `npm
// pack` compiles the installed bin) instead of by tsx's loader in each of the
// thousand-odd processes the tests start: the same code, started in a third
// of the time. Tests that are about tsx itself run it (run-script.ts's
// `launcher` option).
//
// Each script is one CommonJS file, started through a loader that keeps V8's
// compiled code of it (a code cache, as Node 22's module.enableCompileCache()
// keeps, which Node 20 lacks for ES modules): a run then skips compiling the
// functions an earlier run compiled (docs/testing.md has what it saves).
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPTS = join(ROOT, 'scripts', '/');
const LIB = join(ROOT, 'lib', '/');

/**
 * Inside the repository, so that supasync finds its package.json and
 * migrations by walking up, as when installed; and not under node_modules/,
 * which a second clone may share by a symlink (its runs would overwrite
 * this one's scripts with its own code).
 */
export const SCRIPT_BUNDLE_DIR = join(ROOT, '.cache', 'test-scripts');

// A script ends `await runScript(...)` at its top level, which CommonJS cannot hold: the same call, not awaited,
// does the same (nothing follows it, and runScript catches every error). A script of another shape stops the build.
const RUN_SCRIPT_CALL = /^await runScript\(/m;
// An import() of a module named at run time (a mask's transformer) is left to Node, and code vm.Script compiles
// may not call it once it comes from a code cache (Node 20 drops the callback that resolves it): it calls the
// loader's import() instead, which is Node's own.
const RUNTIME_IMPORT = /\bimport\((?=\s*[^'"`\s])/g;
const forTheLoader: Plugin = {
  name: 'for-the-loader',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, ({ path }) => {
      if (!path.startsWith(LIB) && !path.startsWith(SCRIPTS)) return undefined;
      let source = readFileSync(path, 'utf8');
      if (path.startsWith(SCRIPTS)) {
        if (source.match(new RegExp(RUN_SCRIPT_CALL, 'gm'))?.length !== 1) {
          throw new Error(`${path} does not end in one \`await runScript(...)\`, which the test bundle turns into a call it does not await`);
        }
        source = source.replace(RUN_SCRIPT_CALL, 'void runScript(');
      }
      return { contents: source.replace(RUNTIME_IMPORT, 'globalThis.supasyncTestImport('), loader: 'ts' };
    });
  },
};

// Loads a bundle through vm.Script with the code cache beside it. A run's cache holds what the cache it started from
// held and every function the run compiled on top (a REST run's functions, a direct run's): written at exit where it
// grew, and renamed into place, as runs start side by side. So the cache becomes the union of what the suite's runs
// use; past a script's first fifty runs it is left as it is (making it costs a run 10 ms).
const LOADER = `'use strict';
const { appendFileSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { createRequire, wrap } = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');
globalThis.supasyncTestImport = (specifier) => import(specifier);
module.exports = function run(file) {
  const cacheFile = file + '.v8-cache';
  let cachedData;
  try { cachedData = readFileSync(cacheFile); } catch {}
  // A #! line (the bin's) is for a file run on its own, not the inside of a function: blanked, the lines stay where they were.
  const script = new vm.Script(wrap(readFileSync(file, 'latin1').replace(/^#!.*/, '')), {
    filename: file,
    cachedData,
  });
  const started = cachedData && !script.cachedDataRejected ? cachedData.length : 0;
  const runsFile = cacheFile + '-runs';
  appendFileSync(runsFile, '.');
  if (statSync(runsFile).size <= 50) process.once('exit', () => {
    const grown = script.createCachedData();
    if (grown.length <= started * 1.01) return;
    const made = cacheFile + '.' + process.pid;
    writeFileSync(made, grown);
    renameSync(made, cacheFile);
  });
  const bundle = { exports: {}, filename: file, id: file, loaded: false };
  script.runInThisContext().call(bundle.exports, bundle.exports, createRequire(file), bundle, file, dirname(file));
};
`;

export async function bundleScripts(): Promise<void> {
  rmSync(SCRIPT_BUNDLE_DIR, { recursive: true, force: true });
  const scripts = readdirSync(SCRIPTS).filter((name) => name.endsWith('.ts'));
  await build({
    entryPoints: scripts.map((name) => join(SCRIPTS, name)),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // The packages too: a script then reads one file, not the few hundred files of its dependencies, each looked
    // up, read and compiled in every run (a sixth of a direct run's CPU).
    // import.meta.url is where supasync looks for its package.json from: the bundle's own address.
    banner: { js: "const supasyncTestScriptUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': 'supasyncTestScriptUrl' },
    plugins: [forTheLoader],
    // No comments: some hold characters outside ASCII, and a file that is not all ASCII is a string of two bytes a
    // character, slower to compile (a run 0.03 CPU-s more). All ASCII (esbuild escapes the rest in strings), it is
    // read as latin1, 0.4 ms where decoding UTF-8 took 14.
    minifyWhitespace: true,
    legalComments: 'none',
    outdir: join(SCRIPT_BUNDLE_DIR, 'bundles'),
    outExtension: { '.js': '.cjs' },
    logLevel: 'warning',
  });
  for (const name of readdirSync(join(SCRIPT_BUNDLE_DIR, 'bundles'))) {
    if (/[^\x00-\x7f]/.test(readFileSync(join(SCRIPT_BUNDLE_DIR, 'bundles', name), 'latin1'))) {
      throw new Error(`${name} holds characters outside ASCII, which the loader would misread as latin1`);
    }
  }
  writeFileSync(join(SCRIPT_BUNDLE_DIR, 'load.cjs'), LOADER);
  for (const name of scripts) {
    const bundle = `bundles/${name.replace(/\.ts$/, '.cjs')}`;
    writeFileSync(bundledScript(name), `require('./load.cjs')(require('node:path').join(__dirname, ${JSON.stringify(bundle)}));\n`);
  }
}

/** The compiled form of scripts/<script>, as node runs it. */
export const bundledScript = (script: string): string => join(SCRIPT_BUNDLE_DIR, script.replace(/\.ts$/, '.cjs'));
