/// <reference lib="dom" />
// --report and GitHub's job summary, read as a person reads them: one staging
// synced once from the shared production and reused by every case, and the
// HTML page opened in a real headless Chromium, the one @sparticuz/chromium
// ships inside its npm package (so the test needs nothing but Node.js), with
// every request the page makes watched.
import chromium from '@sparticuz/chromium';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_PASSWORD, type Project } from '../stack/index.ts';
import { query, SYNCED_SCHEMAS } from './helpers/content.ts';
import { emptyDirectory, runScript, type ScriptResult } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const MASK_SECRET = 'report-test-mask-secret-7c2d9e41';
const EARLIER_STEP = '## An earlier step of the job\n\n';

const { production, stack } = sharedStack();
let staging: Project;
let browser: Browser;
let cwd: string;
let env: Record<string, string>;
let fullSync: ScriptResult;

const read = (file: string) => readFileSync(join(cwd, file), 'utf8');

/** What the job summary holds: each run's part, after what the job's earlier steps wrote. */
function stepSummary(): { before: string; runs: string[] } {
  const [before = '', ...runs] = readFileSync(env.GITHUB_STEP_SUMMARY as string, 'utf8').split(/^(?=### )/m);
  return { before, runs };
}

/** No key, no database password and no masking secret, in any form the environment holds them. */
function expectNoSecret(text: string): void {
  for (const secret of [production.serviceRoleKey, staging.serviceRoleKey, MASK_SECRET, OWNER_PASSWORD, production.dbUrl, staging.dbUrl]) {
    expect(text).not.toContain(secret);
  }
}

interface Rendered {
  title: string;
  heading: string;
  text: string;
  scripts: number;
  bars: { width: number; height: number; visible: boolean }[];
  /** Every request other than the page's own file. */
  requests: string[];
}

/** The page as Chromium draws it, and every request it tried (each refused). */
async function render(file: string): Promise<Rendered> {
  const page = await browser.newPage();
  try {
    const url = pathToFileURL(join(cwd, file)).href;
    const requests: string[] = [];
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.url() === url || request.url().startsWith('data:')) {
        void request.continue();
      } else {
        requests.push(request.url());
        void request.abort();
      }
    });
    await page.goto(url, { waitUntil: 'load' });
    const drawn = await page.evaluate(() => ({
      heading: document.querySelector('h1')?.textContent ?? '',
      text: document.body.innerText,
      scripts: document.querySelectorAll('script').length,
      bars: Array.from(document.querySelectorAll('svg rect.bar')).map((bar) => {
        const box = bar.getBoundingClientRect();
        const style = getComputedStyle(bar);
        return { width: box.width, height: box.height, visible: style.visibility === 'visible' && style.display !== 'none' && style.fill !== 'none' };
      }),
    }));
    return { title: await page.title(), ...drawn, requests };
  } finally {
    await page.close();
  }
}

describe('--report and the job summary', () => {
  beforeAll(async () => {
    cwd = emptyDirectory();
    staging = await stack.createProject('report_staging');
    env = { ...envFor(production, staging), SUPASYNC_MASK_SECRET: MASK_SECRET, GITHUB_STEP_SUMMARY: join(cwd, 'step-summary.md') };
    writeFileSync(env.GITHUB_STEP_SUMMARY as string, EARLIER_STEP);
    // The browser unpacks (the first time) while the sync runs.
    [fullSync, browser] = await Promise.all([
      runScript(
        'sync-prod-to-staging-ultimate.ts',
        ['--via', 'postgres', '--yes', '--schemas', SYNCED_SCHEMAS.join(','), '--mask', 'supabase', '--report', 'full.html'],
        { env, cwd },
      ),
      chromium.executablePath().then((executablePath) => puppeteer.launch({ executablePath, args: chromium.args, headless: 'shell' })),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await staging?.stop();
  });

  it('sync-prod-to-staging-ultimate --report full.html holds the plan, each table with rows, time and rows/s, the backup and verify', () => {
    expect(fullSync.code, fullSync.stderr).toBe(0);
    const html = read('full.html');
    expect(html).toContain('<title>supasync sync: done</title>');
    expect(html).toMatch(/<th>Mode<\/th>/);
    expect(html).toContain('Mode <strong>replace</strong>');
    // Planned: its key and what the plan says of it; copied: rows, time, rows/s; verified.
    expect(html).toMatch(
      /<code>public\.guest_reservations<\/code><\/td><td><code>id<\/code><\/td><td class="n">\d+<\/td><td>replace<\/td><td>generated, left out: /,
    );
    expect(html).toMatch(
      /<code>public\.chat_messages<\/code><\/td><td class="n">324<\/td><td class="n">324<\/td><td class="n">0<\/td><td class="n">0<\/td><td class="n">[\d.]+ m?s<\/td><td class="n">[\d,]+<\/td>/,
    );
    expect(html).toMatch(/<code>public\.chat_messages<\/code><\/td><td class="n">324<\/td><td class="n">324<\/td><td class="ok">✅ Perfect<\/td>/);
    // What it left out, and why.
    expect(html).toContain('<code>auth.schema_migrations</code>: never copied: it is Auth&#39;s (GoTrue&#39;s) record of the migrations');
    expect(html).toContain('<code>auth.sessions</code>: only when named with --tables: it is production&#39;s sign-in state');
    expect(html).toContain('<strong>Backup</strong>: No backup needed');
    expect(html).toContain('Masked on the way: auth.users (');
    expect(html).toContain('Staging equals production: ');
    expect(html.match(/<rect class="bar"/g)?.length).toBe(fullSync.stdout.match(/^\| \S+ +\| [\d,]+ +\| [\d.]+s +\|$/gm)?.length);
    expectNoSecret(html);
  });

  it("GITHUB_STEP_SUMMARY gets the run's status table, each table's rows, time and verify status, after the job's earlier steps", () => {
    const { before, runs } = stepSummary();
    expect(before).toBe(EARLIER_STEP);
    expect(runs).toHaveLength(1);
    const [run = ''] = runs;
    expect(run).toMatch(/^### supasync sync: ✅ Synced \d+ tables, [\d,]+ rows/);
    expect(run).toContain('| Table | Rows | Time | Rows/s | Verify |');
    expect(run).toMatch(/\| `public\.chat_messages` \| 324 \| [\d.]+ m?s \| [\d,]+ \| ✅ Perfect \|/);
    expectNoSecret(run);
  });

  it('renders in a real browser: heading, a visible bar per table, and not one request leaves the page', async () => {
    const page = await render('full.html');
    expect(page.title).toBe('supasync sync: done');
    expect(page.heading).toBe('supasync sync');
    expect(page.text).toContain('Copy time per table');
    expect(page.bars.length).toBeGreaterThan(30);
    for (const bar of page.bars) {
      expect(bar.width).toBeGreaterThan(0);
      expect(bar.height).toBeGreaterThan(0);
      expect(bar.visible).toBe(true);
    }
    expect(page.requests).toEqual([]);
  });

  it('sync.ts --report run.md writes Markdown, in a directory it makes, with the backup it took and a text chart', async () => {
    // A row the upsert puts back as production has it: a run that changed no row would keep no backup.
    await query(
      staging.adminUrl,
      `UPDATE public.sire_countries SET name = name || ' (staging)' WHERE country_code = (SELECT min(country_code) FROM public.sire_countries)`,
    );
    const result = await runScript(
      'sync.ts',
      ['--via', 'postgres', '--mode', 'upsert', '--tables', 'sire_countries,sire_cities', '--report', 'reports/run.md'],
      {
        env,
        cwd,
      },
    );
    expect(result.code, result.stderr).toBe(0);
    const markdown = read('reports/run.md');
    // Private to the user, as a backup is: it names rows by their keys.
    expect((statSync(join(cwd, 'reports/run.md')).mode & 0o777).toString(8)).toBe('600');
    expect(markdown).toMatch(/^# supasync sync: ✅ Synced 2 tables, 80 rows/);
    expect(markdown).toMatch(/\| 0 \| `public\.sire_countries` \| `country_code` \| 20 \| upsert \|/);
    expect(markdown).toMatch(/\| `public\.sire_cities` \| 60 \| 0 \| 0 \| 0 \| [\d.]+ m?s \| [\d,]+ \|/);
    expect(markdown).toMatch(/\*\*Backup\*\*: Backup of 2 staging tables \(80 rows\) before the upsert: \.supasync/);
    expect(markdown).toMatch(/## Copy time per table\n\n```text\npublic\.sire_countries {2}[█▏▎▍▌▋▊▉ ]{40} {2}[\d.]+ m?s\npublic\.sire_cities {4}/);
    expectNoSecret(markdown);
  });

  it('verify-sync-status --report names each differing key, and a key that reads as HTML stays text in the page', async () => {
    const flag = '<script>document.title="pwned"</script><img src="https://example.test/x.png">';
    await query(staging.adminUrl, 'INSERT INTO public.feature_flags VALUES ($1, true, 1)', [flag]);
    try {
      const result = await runScript('verify-sync-status.ts', ['--via', 'postgres', '--tables', 'feature_flags,hotels', '--report', 'verify.html'], {
        env,
        cwd,
      });
      expect(result.code, result.stderr).toBe(1);
      const html = read('verify.html');
      expect(html).not.toMatch(/<script|<img/i);
      expect(html).toContain('extra in staging: <code>(&#34;&#60;script&#62;');
      const page = await render('verify.html');
      expect(page.title).toBe('supasync verify: failed');
      expect(page.scripts).toBe(0);
      expect(page.text).toContain(`extra in staging: ("${flag.replace(/"/g, '""')}")`);
      expect(page.text).toContain('1 of 2 tables differ.');
      expect(page.bars.map((bar) => bar.width > 0)).toEqual([true, true]);
      expect(page.requests).toEqual([]);
      expectNoSecret(html);
      const run = stepSummary().runs.at(-1) ?? '';
      expect(run).toMatch(/^### supasync verify: ❌ 1 of 2 tables differ\./);
      expect(run).toMatch(/\| `public\.feature_flags` \| 12 \| 13 \| ⚠️ counts differ \|/);
    } finally {
      await query(staging.adminUrl, 'DELETE FROM public.feature_flags WHERE flag_key = $1', [flag]);
    }
  });

  it('a run that fails after planning writes its report all the same, saying what failed; a name of no known format stops a run before it connects', async () => {
    const [result, misnamed] = await Promise.all([
      runScript('sync.ts', ['--via', 'postgres', '--mode', 'upsert', '--tables', 'event_log', '--report', 'failed.md'], { env, cwd }),
      runScript('verify-sync-status.ts', ['--report', 'run.txt'], { env, cwd }),
    ]);
    expect(result.code).toBe(2);
    const markdown = read('failed.md');
    expect(markdown).toMatch(/^# supasync sync: ❌ Failed: Cannot upsert public\.event_log: no primary key/);
    expect(markdown).toContain('## What failed\n\n```text\nCannot upsert public.event_log: no primary key or NOT NULL unique key to match rows on.');
    expect(markdown).toMatch(/\| 0 \| `public\.event_log` \| none \(replace only\) \|/);
    expectNoSecret(markdown);
    expect(stepSummary().runs.at(-1)).toContain('```text\nCannot upsert public.event_log: no primary key');
    expect(misnamed.code).toBe(2);
    expect(misnamed.stderr).toContain('--report run.txt: name the file .md for Markdown or .html (or .htm) for an HTML page');
    expect(existsSync(join(cwd, 'run.txt'))).toBe(false);
  });
});
