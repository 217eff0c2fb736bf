// The build's own checks fail on a wrong import and on a lint error: a file
// that breaks each is written into the tree, the check run as `npm test` runs
// it, and the file removed whatever happens. No database involved.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
// .gitignore lists the prefix, so a file left by a killed run is never committed.
const PREFIX = 'house-habits-tmp-';
const folders = ['lib/transport', 'tests'];

function removeLeftovers(): void {
  for (const folder of folders) {
    for (const name of readdirSync(join(root, folder))) {
      if (name.startsWith(PREFIX)) rmSync(join(root, folder, name), { force: true });
    }
  }
}

function run(command: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Writes `relative` for the length of `check`, then removes it, whatever `check` does. */
function withFile<T>(relative: string, text: string, check: () => T): T {
  writeFileSync(join(root, relative), text);
  try {
    return check();
  } finally {
    rmSync(join(root, relative), { force: true });
  }
}

describe('house habits: the checks npm test runs fail on a violation', () => {
  beforeAll(removeLeftovers);
  afterAll(removeLeftovers);

  it('refuses lib/transport importing from lib/engine, naming the rule and the import', () => {
    const file = `lib/transport/${PREFIX}${process.pid}.ts`;
    const { status, output } = withFile(file, "import '../engine/sync.ts';\n", () => run('npm', ['run', '--silent', 'lint:layers']));
    expect(status, output).not.toBe(0);
    expect(output).toContain(`error no-upward-from-transport: ${file} → lib/engine/sync.ts`);
  });

  it('refuses an unused variable and a promise nobody awaits', () => {
    const file = `tests/${PREFIX}${process.pid}.ts`;
    const text = 'export function leftBehind(): void {\n  const unused = 1;\n  Promise.resolve();\n}\n';
    const { status, output } = withFile(file, text, () => run(join(root, 'node_modules/.bin/eslint'), [file]));
    expect(status, output).toBe(1);
    expect(output).toMatch(/2:9 +error +'unused' is assigned a value but never used.*@typescript-eslint\/no-unused-vars/);
    expect(output).toMatch(/3:3 +error +Promises must be awaited.*@typescript-eslint\/no-floating-promises/);
  });
});
