// The REST path's contenders: supasync over REST and the user's first
// version, each through the gateway's remote and local profiles, on the
// embeddings alone and on the whole fixture. The harness switches both
// projects' gateways to the profile (bench/profiled-api.ts) and counts the bytes.
import { readCatalogPostgres } from '../lib/catalog/read.ts';
import { connectPostgres } from '../lib/connect/postgres.ts';
import type { GatewayProfile } from '../stack/gateway.ts';
import type { Project } from '../stack/index.ts';
import type { Contender, Copies, RunContext } from './contenders.ts';
import type { BenchTable } from './dataset.ts';
import { planFirstVersion } from './first-version-plan.ts';

/** `embeddings`: public.code_embeddings alone, the user's 64 s. `fixture`: everything the contender can copy. */
export type RestDataset = 'embeddings' | 'fixture';

export const EMBEDDINGS_TABLE = 'public.code_embeddings';

const profiles: GatewayProfile[] = ['remote', 'local'];
const datasets: RestDataset[] = ['embeddings', 'fixture'];

/** Only what the REST path gets: the URLs and the service-role keys. */
export const restEnv = ({ production, staging }: Pick<RunContext, 'production' | 'staging'>): Record<string, string> => ({
  SUPABASE_PROD_URL: production.apiUrl,
  SUPABASE_PROD_SERVICE_ROLE_KEY: production.serviceRoleKey,
  SUPABASE_STAGING_URL: staging.apiUrl,
  SUPABASE_STAGING_SERVICE_ROLE_KEY: staging.serviceRoleKey,
  // Set and empty, so that a .env.local in the repository cannot add them (dotenv never overrides).
  SUPABASE_PROD_DB_URL: '',
  SUPABASE_STAGING_DB_URL: '',
});

const embeddingsOnly = (tables: BenchTable[]): Copies => ({ tables: tables.filter((t) => t.key === EMBEDDINGS_TABLE) });

function oursRest(profile: GatewayProfile, dataset: RestDataset): Contender {
  return {
    id: `ours_rest_${profile}_${dataset}`,
    group: 'ours_rest',
    label: 'supasync REST (ours)',
    rest: { profile, dataset },
    unavailable: () => undefined,
    copies: async (_production, tables) => (dataset === 'embeddings' ? embeddingsOnly(tables) : { tables }),
    command: (context) => ({
      file: 'npx',
      args: [
        'tsx',
        'scripts/sync.ts',
        '--via',
        'rest',
        '--mode',
        'replace',
        '--yes',
        ...(dataset === 'embeddings' ? ['--tables', EMBEDDINGS_TABLE] : ['--schemas', context.schemas.join(',')]),
      ],
      cwd: context.repoDir,
      env: restEnv(context),
    }),
  };
}

function firstVersion(profile: GatewayProfile, dataset: RestDataset): Contender {
  return {
    id: `first_version_${profile}_${dataset}`,
    group: 'first_version',
    label: 'first version (range + upsert)',
    rest: { profile, dataset },
    unavailable: () => undefined,
    copies: (production, tables) => (dataset === 'embeddings' ? Promise.resolve(embeddingsOnly(tables)) : firstVersionTables(production, tables)),
    command: (context) => ({
      file: 'npx',
      args: ['tsx', 'bench/first-version.ts', '--tables', context.tables.map((t) => t.key).join(',')],
      cwd: context.repoDir,
      env: restEnv(context),
    }),
  };
}

/** The public tables the first version can copy, and a line naming the others with the reason. */
async function firstVersionTables(production: Project, tables: BenchTable[]): Promise<Copies> {
  const client = await connectPostgres('production', production.dbUrl);
  try {
    const plan = planFirstVersion(await readCatalogPostgres('production', client));
    const copied = new Set(plan.copy.map(({ table }) => `${table.schema}.${table.name}`));
    const skipped = [
      ...tables.filter((t) => !t.key.startsWith('public.')).map((t) => `${t.key} (not in public: PostgREST does not expose it)`),
      ...plan.skipped.map(({ table, reason }) => `${table} (${reason.split(':')[0]})`),
    ];
    return {
      tables: tables.filter((t) => copied.has(t.key)),
      note: `copies ${copied.size} of ${tables.length} tables; skips ${skipped.join(', ')}`,
    };
  } finally {
    await client.end();
  }
}

export const REST_CONTENDERS: Contender[] = [
  ...datasets.flatMap((dataset) => profiles.flatMap((profile) => [oursRest(profile, dataset), firstVersion(profile, dataset)])),
];
