// The report's renderers on a run whose names and keys read as markup:
// whatever a database calls its tables or holds in its keys, the HTML page
// shows it as text and the Markdown cannot turn it into a link, an image or
// a broken table. No database involved: tests/report.test.ts runs the real
// commands.
import { describe, expect, it } from 'vitest';
import { reportFormat } from '../lib/report/document/format.ts';
import { renderHtml } from '../lib/report/document/html.ts';
import { renderMarkdown, renderStepSummary } from '../lib/report/document/markdown.ts';
import { buildReport, type RunFacts, type RunReport } from '../lib/report/document/model.ts';
import { REDACTED, secretValues, withoutSecrets } from '../lib/report/document/secrets.ts';
import type { SyncPlan } from '../lib/plan/types.ts';
import type { BucketCopyResult } from '../lib/storage/copy.ts';
import type { BucketVerdict } from '../lib/storage/verify.ts';

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
          differences: { missing: [], extra: [HOSTILE_KEY], changed: [], more: false, found: { missing: 0, extra: 1, changed: 0 } },
          seconds: 0.25,
        },
        { table: 'public.hotels', production: 3, staging: 3, status: '✅ Perfect', equal: true, key: 'id', differences: null, seconds: 0 },
      ],
      sequences: [],
      sequencesEqual: 0,
      orphans: [],
      largeObjects: [`${HOSTILE_TABLE}.blob: 2 large objects named by production's rows, not compared (over REST <b>)`],
    },
    files: null,
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

// Files: a bucket and a path are whatever the project named them.
const HOSTILE_BUCKET = '<img src=x>';
const HOSTILE_PATH = 'a`b|<img src=x onerror=alert(1)>.png';

/** A plan of no tables: the files step is what these runs are about. */
const NO_TABLES: SyncPlan = {
  production: 'production',
  staging: 'staging',
  mode: 'replace',
  schemas: ['public'],
  tables: [],
  cycles: [],
  selfReferences: [],
  externalParents: [],
  stagingLinks: [],
  sequences: [],
  sequenceFloors: [],
  stagingOnlyTables: [],
  leftOut: [],
  extensionConfigTables: [],
  projectState: [],
  untriggered: [],
  sameDatabase: false,
  textDifferences: [],
};

function filesRun(kind: RunFacts['kind'], files: RunFacts['files'], options: { exitCode?: number; dryRun?: boolean } = {}): RunFacts {
  return {
    kind,
    command: `npx supasync ${kind} --storage`,
    startedAt: new Date('2026-01-02T03:04:05.000Z'),
    finishedAt: new Date('2026-01-02T03:04:09.000Z'),
    run: { via: 'rest', plan: NO_TABLES, production: { location: 'https://production.example.test' }, staging: { location: 'https://staging.example.test' } },
    dryRun: options.dryRun,
    files,
    exitCode: options.exitCode ?? 0,
  };
}

const copied = (bucket: string, counts: Partial<BucketCopyResult> = {}): BucketCopyResult => ({
  bucket,
  settings: 'created',
  objects: 0,
  bytes: 0,
  copied: 0,
  copiedBytes: 0,
  removed: 0,
  unchanged: 0,
  seconds: 1.5,
  ...counts,
});

const MISSING = Array.from({ length: 12 }, (_, i) => `p/${i}.png`);

/** photos equal; the hostile bucket lacks 12 files in staging (10 listed) and has one production lacks. */
function verdicts(): BucketVerdict[] {
  return [
    {
      bucket: 'photos',
      status: 'equal',
      production: { objects: 300, bytes: 1_234_567 },
      staging: { objects: 300, bytes: 1_234_567 },
      missing: [],
      extra: [],
      changed: [],
      counts: { missing: 0, extra: 0, changed: 0 },
      hashed: 0,
    },
    {
      bucket: HOSTILE_BUCKET,
      status: 'differs',
      production: { objects: 12, bytes: 12_000 },
      staging: { objects: 1, bytes: 100 },
      missing: MISSING.slice(0, 10),
      extra: [HOSTILE_PATH],
      changed: [],
      counts: { missing: 12, extra: 1, changed: 0 },
      hashed: 0,
    },
  ];
}

describe('the files step in the report', () => {
  const failedOnFiles = () =>
    buildReport(
      filesRun(
        'sync',
        {
          copied: [
            copied('photos', { objects: 300, bytes: 1_234_567, copied: 300, copiedBytes: 1_234_567, owners: { set: 42, unmatched: 0 } }),
            copied(HOSTILE_BUCKET, { settings: 'unchanged', objects: 12, bytes: 12_000, unchanged: 12 }),
          ],
          verdicts: verdicts(),
        },
        { exitCode: 1 },
      ),
    );

  it('a sync whose rows are fine but whose files differ says so in its outcome, and lists the differing paths with how many more', () => {
    const report = failedOnFiles();
    expect(report.outcome).toMatchObject({ ok: false, exitCode: 1 });
    expect(report.outcome.headline).toBe(`Files: 2 buckets, 300 copied (1.2 MB), 12 unchanged, owners set on 42 files. Files differ in ${HOSTILE_BUCKET}.`);
    expect(report.files?.verify?.buckets.map((b) => b.differences)).toEqual([
      [],
      [
        { what: 'missing in staging', paths: MISSING.slice(0, 10), more: 2 },
        { what: 'only in staging', paths: [HOSTILE_PATH], more: 0 },
      ],
    ]);
  });

  it('Markdown: each bucket a row, bucket names and paths in code spans, the pipe in a path unable to end a cell', () => {
    const markdown = renderMarkdown(failedOnFiles());
    expect(markdown).toMatch(
      /^# supasync sync: ❌ Files: 2 buckets, 300 copied \(1\.2 MB\), 12 unchanged, owners set on 42 files\. Files differ in \\<img src=x\\>\./,
    );
    expect(markdown).toContain('| Bucket | Settings | Objects | Copied | Unchanged | Removed | Owners set | Time |');
    expect(markdown).toContain('| `photos` | created | 300 (1.2 MB) | 300 (1.2 MB) | 0 | 0 | 42 | 1.50 s |');
    // A bucket whose owners were not carried says so by a dash, not by a 0.
    expect(markdown).toContain('| `<img src=x>` | unchanged | 12 (11.7 KB) | 0 (0 B) | 12 | 0 | - | 1.50 s |');
    expect(markdown).toContain('| `<img src=x>` | 12 (11.7 KB) | 1 (100 B) | ❌ Files differ |');
    expect(markdown).toContain('- missing in staging: `p/0.png` `p/1.png`');
    expect(markdown).toContain('`p/9.png` and 2 more');
    expect(markdown).not.toContain('`p/10.png`');
    expect(markdown).toContain('- only in staging: ``a`b|<img src=x onerror=alert(1)>.png``');
    // Outside a code span, no tag that is not escaped.
    expect(markdown.replace(/(`+)[\s\S]*?\1/g, '')).not.toMatch(/(?<!\\)<img/);
  });

  it('HTML: bucket names and paths are text, not markup', () => {
    const html = renderHtml(failedOnFiles());
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('<h2>Files</h2>');
    expect(html).toContain('<code>&#60;img src=x&#62;</code>');
    expect(html).toContain('only in staging: <code>a`b|&#60;img src=x onerror=alert(1)&#62;.png</code>');
    expect(html).toContain('<code>p/9.png</code> and 2 more');
  });

  it('the job summary has one short row per bucket, with verify’s word on it', () => {
    const summary = renderStepSummary(failedOnFiles());
    expect(summary).toContain('| Bucket | Objects | Copied | Removed | Time | Verify |');
    expect(summary).toContain('| `photos` | 300 (1.2 MB) | 300 (1.2 MB) | 0 | 1.50 s | ✅ Equal |');
    expect(summary).toContain('| `<img src=x>` | 12 (11.7 KB) | 0 (0 B) | 0 | 1.50 s | ❌ Files differ |');
  });

  it('a dry run says what it would copy and remove, and times nothing', () => {
    const report = buildReport(
      filesRun(
        'sync',
        { copied: [copied('avatars', { objects: 5, bytes: 5120, copied: 3, copiedBytes: 3072, unchanged: 2, removed: 1, owners: { set: 1, unmatched: 0 } })] },
        { dryRun: true },
      ),
    );
    expect(report.outcome.headline).toBe(
      'Dry run, nothing written: 0 tables planned. Files: 1 bucket, 3 to copy (3.0 KB), 2 unchanged, 1 to remove, owners to set on 1 file.',
    );
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('## Files (dry run: nothing changed)');
    expect(markdown).toContain('| Bucket | Settings | Objects | To copy | Unchanged | To remove | Owners to set | Time |');
    expect(markdown).toContain('| `avatars` | to be created | 5 (5.0 KB) | 3 (3.0 KB) | 2 | 1 | 1 | - |');
    // What the terminal said under the table, as text in both formats: a bucket's name is the user's, never markup.
    const noted = buildReport(
      filesRun('sync', { copied: [copied(HOSTILE_BUCKET)], notes: [`${HOSTILE_BUCKET}: the owner of 2 files is a user staging lacks`] }),
    );
    expect(renderMarkdown(noted)).toContain('\\<img src=x\\>: the owner of 2 files is a user staging lacks');
    expect(renderHtml(noted)).toContain('<p>&#60;img src=x&#62;: the owner of 2 files is a user staging lacks</p>');
    expect(renderStepSummary(report)).toContain('| `avatars` | 5 (5.0 KB) | 3 (3.0 KB) | 1 | - |');
  });

  it('verify --storage: production against staging per bucket; a run without a files step has no files section', () => {
    const report = buildReport(filesRun('verify', { verdicts: verdicts() }, { exitCode: 1 }));
    expect(report.files?.summary).toBeNull();
    expect(report.outcome.headline).toBe(`Files differ in ${HOSTILE_BUCKET}.`);
    const summary = renderStepSummary(report);
    expect(summary).toContain('| Bucket | Production | Staging | Status |');
    expect(summary).toContain('| `photos` | 300 (1.2 MB) | 300 (1.2 MB) | ✅ Equal |');
    expect(renderMarkdown(report)).toContain('### Files verified\n\n❌ Files differ in \\<img src=x\\>.');
    expect(buildReport(filesRun('verify', undefined)).files).toBeNull();
  });
});

describe('report documents', () => {
  it('HTML: every name and key is text, not markup, and the page may make no request at all', () => {
    const html = renderHtml(hostileRun());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('&#60;img src=https://example.test/x.png onerror=alert(2)&#62;');
    expect(html).toContain('<h3>Large objects</h3>');
    expect(html).toContain('not compared (over REST &#60;b&#62;)');
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
    expect(markdown).toContain('### Large objects');
    expect(markdown).toContain('not compared (over REST \\<b\\>)');
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
