// The report's renderers on a run whose names and keys read as markup:
// whatever a database calls its tables or holds in its keys, the HTML page
// shows it as text and the Markdown cannot turn it into a link, an image or
// a broken table. No database involved: tests/report.test.ts runs the real
// commands.
import { describe, expect, it } from 'vitest';
import { reportFormat } from '../lib/report/document/format.ts';
import { renderHtml } from '../lib/report/document/html.ts';
import { renderMarkdown, renderStepSummary } from '../lib/report/document/markdown.ts';
import type { RunReport } from '../lib/report/document/model.ts';
import { REDACTED, secretValues, withoutSecrets } from '../lib/report/document/secrets.ts';

const HOSTILE_TABLE = 'public."<script>alert(1)</script>"';
const HOSTILE_KEY = '("<img src=https://example.test/x.png onerror=alert(2)>|a`b")';

function hostileRun(): RunReport {
  return {
    title: 'supasync verify',
    command: 'npx tsx scripts/verify-sync-status.ts',
    startedAt: '2026-01-02T03:04:05.000Z',
    finishedAt: '2026-01-02T03:04:07.500Z',
    production: 'postgresql://postgres:***@127.0.0.1:5432/production',
    staging: 'postgresql://postgres:***@127.0.0.1:5432/staging',
    via: 'postgres',
    outcome: { ok: false, exitCode: 1, headline: '1 of 2 tables differ.', failure: null },
    plan: {
      dryRun: false,
      modes: [],
      tables: [
        { level: 0, table: HOSTILE_TABLE, key: 'id', rowEstimate: 3, mode: null, notes: ["where name <> '</td>'"] },
        { level: 0, table: 'public.hotels', key: 'id', rowEstimate: 3, mode: null, notes: [] },
      ],
      notCopied: [{ table: 'auth.sessions', reason: 'never copied: it holds <sign-in state>' }],
      drift: [],
      sequences: 0,
    },
    copy: null,
    verify: {
      equal: false,
      summary: '1 of 2 tables differ.',
      tables: [
        {
          table: HOSTILE_TABLE,
          production: 3,
          staging: 4,
          status: '⚠️ counts differ',
          equal: false,
          key: 'id',
          differences: { missing: [], extra: [HOSTILE_KEY], changed: [], more: false },
          seconds: 0.25,
        },
        { table: 'public.hotels', production: 3, staging: 3, status: '✅ Perfect', equal: true, key: 'id', differences: null, seconds: 0 },
      ],
      sequences: [],
      sequencesEqual: 0,
      orphans: [],
    },
    audit: null,
    chart: {
      title: 'Comparison time per table',
      bars: [
        { label: HOSTILE_TABLE, seconds: 0.25 },
        { label: 'public.hotels', seconds: 0 },
      ],
    },
  };
}

describe('report documents', () => {
  it('HTML: every name and key is text, not markup, and the page may make no request at all', () => {
    const html = renderHtml(hostileRun());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('&#60;img src=https://example.test/x.png onerror=alert(2)&#62;');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);
    // The chart: a bar per table, the one that took no measurable time a sliver still.
    const bars = [...html.matchAll(/<rect class="bar" [^>]*width="([\d.]+)"/g)].map((match) => Number(match[1]));
    expect(bars).toEqual([420, 2]);
  });

  it('Markdown: names and keys in code spans, a pipe in a key escaped so the table keeps its columns', () => {
    const markdown = renderMarkdown(hostileRun());
    const row = markdown.split('\n').find((line) => line.startsWith('| `public."<script>'));
    expect(row).toBe('| `public."<script>alert(1)</script>"` | 3 | 4 | ⚠️ counts differ | 250 ms |');
    expect(markdown).toContain('- extra in staging: ``("<img src=https://example.test/x.png onerror=alert(2)>|a`b")``');
    expect(markdown).toContain('auth.sessions`: never copied: it holds \\<sign-in state\\>');
    // The text chart: the longest bar full width, the quickest a sliver.
    expect(markdown).toMatch(/public\."<script>alert\(1\)<\/script>" {2}█{40} {2}250 ms/);
    expect(markdown).toMatch(/public\.hotels +▏ +0 ms/);
  });

  it("the job summary is verify's status table and the outcome", () => {
    const summary = renderStepSummary(hostileRun());
    expect(summary.split('\n').slice(0, 3)).toEqual([
      '### supasync verify: ❌ 1 of 2 tables differ.',
      '',
      '`postgresql://postgres:***@127.0.0.1:5432/production` → `postgresql://postgres:***@127.0.0.1:5432/staging`, via postgres, 2.50 s, exit code 1',
    ]);
    expect(summary).toContain('| `public.hotels` | 3 | 3 | ✅ Perfect |');
  });

  it('leaves out the secrets of the environment, a connection string password as written and decoded', () => {
    const env = {
      SUPABASE_PROD_SERVICE_ROLE_KEY: 'eyJ-production-key',
      SUPASYNC_MASK_SECRET: 'mask-secret-0123456789',
      SUPABASE_STAGING_DB_URL: 'postgresql://postgres.ref:p%40ss%7Cw0rd@pooler.example.test:5432/postgres',
      HOME: '/root',
    };
    const secrets = secretValues(env);
    expect(secrets).toEqual(expect.arrayContaining(['eyJ-production-key', 'mask-secret-0123456789', 'p%40ss%7Cw0rd', 'p@ss|w0rd']));
    expect(secrets).not.toContain('/root');
    const cleaned = withoutSecrets({ failure: 'password p@ss|w0rd refused; key eyJ-production-key', list: ['mask-secret-0123456789'] }, secrets);
    expect(cleaned).toEqual({ failure: `password ${REDACTED} refused; key ${REDACTED}`, list: [REDACTED] });
  });

  it('chooses the format by the file name, and refuses any other with the names it takes', () => {
    expect(reportFormat('run.md')).toBe('markdown');
    expect(reportFormat('out/Run.HTML')).toBe('html');
    expect(reportFormat('run.htm')).toBe('html');
    expect(() => reportFormat('run.txt')).toThrow(/--report run\.txt: name the file \.md for Markdown or \.html \(or \.htm\)/);
  });
});
