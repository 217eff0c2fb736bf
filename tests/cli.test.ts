// The command line every script shares: flags declared once (lib/cli/flags.ts),
// a mistyped one answered with the nearest, --version, and no colour for
// whoever asks for none.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SYNCED_SCHEMAS, tableDigests } from './helpers/content.ts';
import { allScripts, runScript, startScript } from './helpers/run-script.ts';
import { envFor, envOver, sharedStack } from './setup/stack.ts';
import { bundledScript } from './setup/script-bundle.ts';

const { production, staging, stack } = sharedStack();
const env = envFor(production, staging);
const SCRIPTS = allScripts();
const ESCAPE = '\u001b[';
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe('the command line', () => {
  it('answers a mistyped flag with the one meant, exit 2, in every script', async () => {
    const results = await Promise.all(SCRIPTS.map((script) => runScript(script, ['--dbug'], { env })));
    results.forEach((result, i) => {
      expect(result.code, SCRIPTS[i]).toBe(2);
      expect(result.stderr, SCRIPTS[i]).toContain("Unknown option '--dbug'. Did you mean --debug?");
    });
    const sync = await runScript('sync.ts', ['--dry-run', '--tabels', 'hotels'], { env });
    expect(sync.code).toBe(2);
    expect(sync.stderr).toContain('Did you mean --tables?');
  });

  it('says so as JSON on stdout with --json', async () => {
    const result = await runScript('sync.ts', ['--json', '--with-parent'], { env });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, exitCode: 2, error: expect.stringContaining('Did you mean --with-parents?') });
  });

  it('names the choices of a choice flag given another value', async () => {
    const [via, mode, verifyVia] = await Promise.all([
      runScript('sync.ts', ['--dry-run', '--via', 'http'], { env }),
      runScript('sync.ts', ['--dry-run', '--mode', 'merge'], { env }),
      runScript('verify-sync-status.ts', ['--via', 'http'], { env }),
    ]);
    for (const result of [via, verifyVia]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("'http' is invalid. Allowed choices are rest, postgres.");
    }
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain("'merge' is invalid. Allowed choices are replace, upsert, mirror, insert-missing, incremental.");
  });

  it("reads --tables as SQL quotes names: a comma or a dot inside double quotes is the name's", async () => {
    const [quoted, unclosed] = await Promise.all([
      runScript('sync.ts', ['--dry-run', '--json', '--tables', 'public."MixedCase","order",hotels'], { env }),
      runScript('sync.ts', ['--dry-run', '--tables', '"MixedCase,hotels'], { env }),
    ]);
    expect(quoted.code, quoted.stderr).toBe(0);
    const planned = (JSON.parse(quoted.stdout) as { plan: { tables: { table: { name: string } }[] } }).plan.tables.map((t) => t.table.name);
    expect(planned.sort()).toEqual(['MixedCase', 'hotels', 'order']);
    // An unclosed quote swallows the comma: one name, refused as such, not two tables.
    expect(unclosed.code).toBe(2);
    expect(unclosed.stderr).toContain('"MixedCase,hotels: not a table name.');
  });

  it("prints package.json's version with --version, in every script, and nothing else", async () => {
    const results = await Promise.all(SCRIPTS.map((script) => runScript(script, ['--version'])));
    results.forEach((result, i) => {
      expect(result.code, SCRIPTS[i]).toBe(0);
      expect(result.stdout, SCRIPTS[i]).toBe(`${version}\n`);
    });
  });

  it("runs under tsx's own command too, as the README's `npx tsx` does, with the same exit codes", async () => {
    const [help, mistyped] = await Promise.all([
      runScript('sync.ts', ['--help'], { launcher: 'tsx' }),
      runScript('sync.ts', ['--dry-rum'], { launcher: 'tsx' }),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: npx tsx scripts/sync.ts');
    expect(mistyped.code).toBe(2);
    expect(mistyped.stderr).toContain('--dry-run');
  });

  it('ends quietly, exit 0, when what reads its output has stopped reading (--help | head)', async () => {
    // The reader closes the pipe before the script writes: every write then fails with EPIPE.
    const shell = spawn(
      'bash',
      ['--norc', '--noprofile', '-c', `"${process.execPath}" "${bundledScript('sync.ts')}" --help | (exec 0<&-; sleep 2); echo "exit \${PIPESTATUS[0]}"`],
      {
        env: { PATH: process.env.PATH },
      },
    );
    let out = '';
    let err = '';
    shell.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    await new Promise((resolve) => shell.on('close', resolve));
    expect(err).toBe('');
    expect(out).toBe('exit 0\n');
  });

  it('lists --version, --no-color and each flag it takes in --help', async () => {
    const help = await runScript('restore-staging.ts', ['--help']);
    expect(help.code).toBe(0);
    for (const flag of ['--list', '--yes', '--no-color', '--version', '--debug']) expect(help.stdout).toContain(flag);
    expect(help.stdout).toContain('Exit codes: 0 restored, 1 failed, 2 usage or configuration error, 130 stopped (Ctrl-C).');
    // verify's --storage compares files; it copies none, as sync's does.
    const verify = (await runScript('verify-sync-status.ts', ['--help'])).stdout.replace(/\s+/g, ' ');
    expect(verify).toContain('--storage also compare the files of every bucket');
    expect(verify).not.toContain('also copy the files');
  });

  it('prints no colour with NO_COLOR=1 or --no-color, even when FORCE_COLOR asks for it', async () => {
    // verify-sync-status colours its verdicts on stdout; an error is red on stderr.
    const verify = ['--tables', 'hotels,feature_flags'];
    const [coloured, noColor, flag, colouredError, noColorError, flagError] = await Promise.all([
      runScript('verify-sync-status.ts', verify, { env: { ...env, FORCE_COLOR: '3' } }),
      runScript('verify-sync-status.ts', verify, { env: { ...env, FORCE_COLOR: '3', NO_COLOR: '1' } }),
      runScript('verify-sync-status.ts', [...verify, '--no-color'], { env: { ...env, FORCE_COLOR: '3' } }),
      runScript('sync.ts', ['--tabels'], { env: { ...env, FORCE_COLOR: '3' } }),
      runScript('sync.ts', ['--tabels'], { env: { ...env, FORCE_COLOR: '3', NO_COLOR: '1' } }),
      runScript('sync.ts', ['--tabels', '--no-color'], { env: { ...env, FORCE_COLOR: '3' } }),
    ]);
    // The control: without either, FORCE_COLOR gives colour.
    expect(coloured.stdout).toContain(ESCAPE);
    expect(colouredError.stderr).toContain(ESCAPE);
    for (const result of [noColor, flag]) {
      expect([0, 1]).toContain(result.code);
      expect(result.stdout).toMatch(/hotels/);
      expect(result.stdout + result.stderr).not.toContain(ESCAPE);
    }
    for (const result of [noColorError, flagError]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("Unknown option '--tabels'");
      expect(result.stdout + result.stderr).not.toContain(ESCAPE);
    }
  });

  // Each module tsx loads is a round trip to its loader's thread: a client library the path never calls costs
  // every run ~0.1 s (pg) to 0.2 s (supabase-js and ws) before it starts. NODE_DEBUG=module names each CommonJS
  // file Node loads, which both libraries (or what they load) are.
  it.each([
    ['postgres', 'node_modules/pg/', 'node_modules/@supabase/'],
    ['rest', 'node_modules/@supabase/', 'node_modules/pg/'],
  ] as const)("loads its own path's client library and not the other's under tsx (via %s)", async (via, own, other) => {
    const target = await stack.createProject(`one_path_${via}`);
    try {
      const result = await runScript('sync.ts', ['--via', via, '--yes', '--no-backup', '--tables', 'feature_flags'], {
        env: { ...envOver(via, production, target), NODE_DEBUG: 'module' },
        launcher: 'node',
      });
      expect(result.code, result.stderr.slice(-2000)).toBe(0);
      expect(result.stdout).toContain('Synced 1 table');
      expect((await tableDigests(target.adminUrl))['public.feature_flags']).toEqual((await tableDigests(production.adminUrl))['public.feature_flags']);
      expect(result.stderr).toContain(own);
      expect(result.stderr).not.toContain(other);
    } finally {
      await target.stop();
    }
  });

  it('draws no escape sequence at a terminal with --no-color or NO_COLOR: progress is plain lines, as in a log', async () => {
    const target = await stack.createProject('no_color_staging');
    try {
      const args = ['--via', 'postgres', '--yes', '--no-backup', '--schemas', SYNCED_SCHEMAS.join(',')];
      const [flag, variable] = [
        await startScript('sync.ts', [...args, '--no-color'], { env: { ...envFor(production, target), FORCE_COLOR: '3' }, terminal: true }).finished,
        await startScript('sync.ts', args, { env: { ...envFor(production, target), FORCE_COLOR: '3', NO_COLOR: '1' }, terminal: true }).finished,
      ];
      for (const result of [flag, variable]) {
        expect(result.code, result.stdout).toBe(0);
        expect(result.stdout).toMatch(/✓ public\.chat_messages {2}[\d,]+ rows in [\d.]+s/);
        expect(result.stdout).not.toContain(ESCAPE);
      }
    } finally {
      await target.stop();
    }
  });
});
