// npm run bench -- --storage: files through the Storage API under the
// remote profile (issue 19). Production holds two buckets, many small files
// and one large one; for each, a fresh staging, both gateways switched to the
// remote profile on one shared link, and the whole command timed:
// `supasync sync --yes --buckets <bucket> --tables hotels` (the rows part
// kept to one empty table). Bytes each way are counted at the gateways; the
// wire limit is max(up / 2.5 MB/s, down / 5 MB/s), as for REST rows. Each
// copy is checked by `verify --storage` and by reading every file back.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { projectEnv, startStack, type Project, type Stack } from '../stack/index.ts';
import { REMOTE_RATES } from '../stack/link.ts';
import { measure } from './measure.ts';
import { profileApi } from './profiled-api.ts';

interface Dataset {
  bucket: string;
  label: string;
  files: { path: string; bytes: number }[];
  /** Files in flight per run: the default (16), and more where round trips, not bytes, bound it. */
  inFlight: (number | 'default')[];
}

const DATASETS: Dataset[] = [
  {
    bucket: 'many_small',
    label: '2,000 files of 4-16 KB in nested prefixes',
    files: Array.from({ length: 2000 }, (_, i) => ({ path: `u/${i % 20}/${i % 13}/f-${i}.bin`, bytes: 4096 + (i % 4) * 4096 })),
    inFlight: ['default', 32],
  },
  { bucket: 'one_large', label: 'one file of 48 MB', files: [{ path: 'dumps/large.bin', bytes: 48_000_000 }], inFlight: ['default'] },
];

const MB = 1_000_000;

const storageOf = (project: Project) =>
  createClient(project.apiUrl, project.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
  }).storage;

export async function runStorageBench(context: { repoDir: string; progress: (text: string) => void }, signal: AbortSignal): Promise<number> {
  const { repoDir, progress } = context;
  const work = mkdtempSync(join(tmpdir(), 'supasync-bench-storage-'));
  let stack: Stack | undefined;
  let production: Project | undefined;
  let staging: Project | undefined;
  let failed = false;
  const lines = [
    'Files through the Storage API, remote profile (40 ms a request, one link of 5 MB/s down and 2.5 MB/s up shared by both projects).',
    'wire limit = max(up / 2.5 MB/s, down / 5 MB/s); vs wire = seconds / wire limit. Seconds are the whole command, start-up included.',
    '',
    '| Dataset | Files | MB | In flight | Seconds | MB/s | Up MB | Down MB | Wire limit s | vs wire | Check |',
    '|---------|------:|---:|----------:|--------:|-----:|------:|--------:|-------------:|--------:|-------|',
  ];
  try {
    stack = await startStack();
    production = await stack.createProject('bench_files_production', { syncTarget: false });
    const storage = storageOf(production);
    for (const dataset of DATASETS) {
      progress(`Uploading ${dataset.label} to production...\n`);
      const { error } = await storage.createBucket(dataset.bucket, { public: false });
      if (error) throw new Error(`create ${dataset.bucket}: ${error.message}`);
      for (let i = 0; i < dataset.files.length; i += 50) {
        await Promise.all(
          dataset.files.slice(i, i + 50).map(async (file) => {
            const { error: failure } = await storage
              .from(dataset.bucket)
              .upload(file.path, randomBytes(file.bytes), { contentType: 'application/octet-stream' });
            if (failure) throw new Error(`${dataset.bucket}/${file.path}: ${failure.message}`);
          }),
        );
      }
    }
    for (const [dataset, inFlight] of DATASETS.flatMap((d) => d.inFlight.map((n) => [d, n] as const))) {
      if (signal.aborted) throw new Error('Interrupted.');
      await staging?.stop();
      staging = await stack.createProject('bench_files_staging');
      const env = projectEnv(production, staging);
      const api = profileApi(production, staging, 'remote');
      progress(`${dataset.label}, ${inFlight} in flight: copying under the remote profile... `);
      const measured = await measure(
        {
          file: join(repoDir, 'node_modules', '.bin', 'tsx'),
          args: [
            join(repoDir, 'scripts', 'sync.ts'),
            '--yes',
            '--buckets',
            dataset.bucket,
            '--tables',
            'hotels',
            ...(inFlight === 'default' ? [] : ['--concurrency', String(inFlight)]),
          ],
          cwd: work,
          env,
        },
        { logFile: join(work, `${dataset.bucket}-${inFlight}.log`), signal },
      );
      const traffic = api.traffic();
      api.stop();
      const bytes = dataset.files.reduce((sum, file) => sum + file.bytes, 0);
      const check = measured.exitCode === 0 ? await checkCopy(production, staging, dataset, repoDir, work, env, signal) : `failed (exit ${measured.exitCode})`;
      if (check !== '✅ equal') failed = true;
      const wire = Math.max(traffic.bytesUp / REMOTE_RATES.upBytesPerSecond, traffic.bytesDown / REMOTE_RATES.downBytesPerSecond);
      progress(`${measured.seconds.toFixed(2)} s, ${check}\n`);
      lines.push(
        `| ${dataset.label} | ${dataset.files.length.toLocaleString('en-US')} | ${(bytes / MB).toFixed(1)} | ${inFlight === 'default' ? '16 (default)' : inFlight} | ${measured.seconds.toFixed(2)} | ${(bytes / MB / measured.seconds).toFixed(2)} | ${(traffic.bytesUp / MB).toFixed(1)} | ${(traffic.bytesDown / MB).toFixed(1)} | ${wire.toFixed(2)} | ${(measured.seconds / wire).toFixed(2)}x | ${check} |`,
      );
    }
    console.log(lines.join('\n'));
    return failed ? 1 : 0;
  } finally {
    await staging?.stop().catch(() => undefined);
    await production?.stop().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

/** verify --storage's verdict, and every file read back from both sides (not timed). */
async function checkCopy(
  production: Project,
  staging: Project,
  dataset: Dataset,
  repoDir: string,
  work: string,
  env: Record<string, string>,
  signal: AbortSignal,
): Promise<string> {
  const verify = await measure(
    {
      file: join(repoDir, 'node_modules', '.bin', 'tsx'),
      args: [join(repoDir, 'scripts', 'verify-sync-status.ts'), '--storage', '--buckets', dataset.bucket, '--tables', 'hotels'],
      cwd: work,
      env,
    },
    { logFile: join(work, `${dataset.bucket}-verify.log`), signal },
  );
  if (verify.exitCode !== 0) return `❌ verify exit ${verify.exitCode}`;
  // A download the harness's own burst of requests makes fail is tried again; one that keeps failing is reported as such.
  const sha = async (project: Project, path: string): Promise<string> => {
    let failure = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const { data, error } = await storageOf(project).from(dataset.bucket).download(path);
      if (!error)
        return createHash('sha256')
          .update(Buffer.from(await data.arrayBuffer()))
          .digest('hex');
      failure = `unreadable in ${project === production ? 'production' : 'staging'} (${error.message})`;
    }
    return failure;
  };
  for (let i = 0; i < dataset.files.length; i += 50) {
    const batch = dataset.files.slice(i, i + 50);
    const differing = await Promise.all(
      batch.map(async (file) => {
        const [mine, theirs] = [await sha(production, file.path), await sha(staging, file.path)];
        const unreadable = [mine, theirs].find((hash) => hash.startsWith('unreadable'));
        return mine === theirs ? null : `${file.path}${unreadable ? `: ${unreadable}` : ''}`;
      }),
    );
    const found = differing.filter(Boolean);
    if (found.length) return `❌ differs: ${found.slice(0, 3).join(', ')}`;
  }
  return '✅ equal';
}
