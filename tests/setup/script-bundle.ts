// The scripts of scripts/, compiled once per test run by esbuild (as `npm
// pack` compiles the installed bin) instead of by tsx's loader in each of the
// few hundred processes the tests start: the same code, started in a third
// of the time. Tests that are about tsx itself run it (run-script.ts's
// `launcher` option).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Inside the repository, so that supasync finds its package.json and
 * migrations by walking up, as when installed; and not under node_modules/,
 * which a second clone may share by a symlink (its runs would overwrite
 * this one's scripts with its own code).
 */
export const SCRIPT_BUNDLE_DIR = join(ROOT, '.cache', 'test-scripts');

export async function bundleScripts(): Promise<void> {
  rmSync(SCRIPT_BUNDLE_DIR, { recursive: true, force: true });
  const scripts = readdirSync(join(ROOT, 'scripts')).filter((name) => name.endsWith('.ts'));
  await build({
    entryPoints: scripts.map((name) => join(ROOT, 'scripts', name)),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The packages too: a script then reads one file and its chunks, not the few hundred
    // files of its dependencies, each looked up, read and compiled in every run (a sixth
    // of a direct run's CPU). A CommonJS package's require() of Node's own modules needs
    // a require in the ESM output.
    banner: { js: "import { createRequire as supasyncTestRequire } from 'node:module'; const require = supasyncTestRequire(import.meta.url);" },
    outdir: SCRIPT_BUNDLE_DIR,
    // .mjs says ESM whatever package.json says.
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
  });
}

/** The compiled form of scripts/<script>. */
export const bundledScript = (script: string): string => join(SCRIPT_BUNDLE_DIR, script.replace(/\.ts$/, '.mjs'));
