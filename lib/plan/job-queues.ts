// The tables where a job queue keeps work still to do (Oban's oban_jobs,
// graphile-worker's jobs, pg-boss's job, Supabase Queues' messages) and its
// live state (which worker holds which job, which node leads). Production's
// pending jobs copied into staging would be run there a second time by
// staging's workers: the email sent twice, the webhook called twice, against
// production's customers. Copied only when named, like a migration record.
import type { Column, TableRef } from '../catalog/types.ts';

/** By table name, in any schema: each library's default names. */
const QUEUE_TABLES: Record<string, string> = {
  oban_jobs: 'Oban',
  oban_peers: 'Oban',
  oban_producers: 'Oban',
  river_job: 'River',
  river_leader: 'River',
  river_client: 'River',
  river_client_queue: 'River',
  que_jobs: 'Que',
  que_lockers: 'Que',
  good_jobs: 'GoodJob',
  good_job_executions: 'GoodJob',
  good_job_batches: 'GoodJob',
  good_job_processes: 'GoodJob',
  procrastinate_jobs: 'Procrastinate',
  procrastinate_events: 'Procrastinate',
  procrastinate_periodic_defers: 'Procrastinate',
  procrastinate_workers: 'Procrastinate',
  django_q_ormq: 'Django Q',
};

/** Every table of these schemas is the library's: they are its defaults, and it names its tables freely inside. */
const QUEUE_SCHEMAS: Record<string, string> = {
  graphile_worker: 'graphile-worker',
  pgboss: 'pg-boss',
  pgmq: 'Supabase Queues (pgmq)',
  hangfire: 'Hangfire',
};

const SOLID_QUEUE_PREFIX = 'solid_queue_';

/**
 * Laravel's queue table is called `jobs`, a name apps use for their own data
 * (job postings): taken for Laravel's only with the columns Laravel gives it.
 */
const LARAVEL_JOBS = { name: 'jobs', columns: ['queue', 'payload', 'attempts', 'available_at'] };

/** Why a table is left out of a schema-wide sync as a job queue's, if it is one. */
export function jobQueueReason(table: TableRef & { columns?: Pick<Column, 'name'>[] }): string | undefined {
  const library = queueLibrary(table);
  if (!library) return undefined;
  return `is ${library}'s job queue: staging's workers would run the jobs production has not run yet a second time (an email sent twice)`;
}

function queueLibrary(table: TableRef & { columns?: Pick<Column, 'name'>[] }): string | undefined {
  if (Object.hasOwn(QUEUE_SCHEMAS, table.schema)) return QUEUE_SCHEMAS[table.schema];
  if (Object.hasOwn(QUEUE_TABLES, table.name)) return QUEUE_TABLES[table.name];
  if (table.name.startsWith(SOLID_QUEUE_PREFIX)) return 'Solid Queue';
  const columns = new Set(table.columns?.map((column) => column.name));
  if (table.name === LARAVEL_JOBS.name && LARAVEL_JOBS.columns.every((column) => columns.has(column))) return 'Laravel';
  return undefined;
}
