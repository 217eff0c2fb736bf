// `npm run demo`: two throwaway Supabase-like projects on this machine, a
// realistic production (the seed's row counts), and supasync run against
// them exactly as a user runs it. Everything is removed at the end.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import chalk from 'chalk';
import { projectEnv, startStack, type Project, type Stack } from '../stack/index.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
let stack: Stack | undefined;
const projects: Project[] = [];

async function cleanUp() {
  for (const project of projects) await project.stop().catch(() => undefined);
  await stack?.stop();
}
process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

function runStep(title: string, script: string, args: string[], env: Record<string, string>): Promise<number> {
  console.log(chalk.cyan(`\n$ npx tsx scripts/${script} ${args.join(' ')}`) + chalk.dim(`   # ${title}`));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

try {
  console.log(chalk.bold('supasync demo: starting PostgreSQL, PostgREST and the API gateway...'));
  stack = await startStack();
  const started = Date.now();
  const production = await stack.createProject('demo_production', { fill: 'seed' });
  projects.push(production);
  const staging = await stack.createProject('demo_staging');
  projects.push(staging);
  const rows = Object.values(production.counts ?? {}).reduce((sum, n) => sum + n, 0);
  console.log(
    `Production filled: ${rows.toLocaleString('en-US')} rows in ${Object.keys(production.counts ?? {}).length} tables of public, analytics, auth and storage ` +
      `(${((Date.now() - started) / 1000).toFixed(1)} s). Staging: same schema, no rows.`,
  );

  const env = projectEnv(production, staging);
  // The app's schemas and Supabase's users and Storage rows, which the app's tables reference.
  const schemas = ['--schemas', 'public,analytics,auth,storage'];
  let code = await runStep('what a full sync will do', 'sync.ts', ['--dry-run', ...schemas], env);
  if (code === 0) code = await runStep('the full sync, then verification', 'sync-prod-to-staging-ultimate.ts', ['--yes', ...schemas], env);
  process.exitCode = code;
} catch (error) {
  console.error(chalk.red(`Demo failed: ${(error as Error).message}`));
  process.exitCode = 1;
} finally {
  await cleanUp();
}
