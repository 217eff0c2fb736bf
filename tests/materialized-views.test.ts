// Staging's materialized views that read the tables a sync changed hold
// what they held before it until refreshed: supasync refreshes them once the
// rows are in (directly in the staging transaction, over REST through
// supasync_refresh_views), each after the views it reads. One never
// populated is left so; one another role owns, or whose refresh fails on the
// new rows, keeps its rows and is named in a warning, and the sync still
// lands. A restore refreshes them from the rows it puts back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { backupLine } from './helpers/backup.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const SCHEMA = `
  CREATE TABLE public.scores (id int PRIMARY KEY, player text NOT NULL, points int NOT NULL);
  CREATE VIEW public.scores_counted AS SELECT * FROM public.scores WHERE points > 0;
  CREATE MATERIALIZED VIEW public.leaderboard AS SELECT player, sum(points)::int AS total FROM public.scores_counted GROUP BY player;
  CREATE UNIQUE INDEX ON public.leaderboard (player);
  CREATE MATERIALIZED VIEW public.top_player AS SELECT player FROM public.leaderboard ORDER BY total DESC, player LIMIT 1;
  CREATE MATERIALIZED VIEW public.score_count AS SELECT count(*)::int AS n FROM public.scores WITH NO DATA;
  CREATE MATERIALIZED VIEW public.inverse_points AS SELECT id, 100 / points AS inverse FROM public.scores;
  CREATE MATERIALIZED VIEW public.audited_scores AS SELECT count(*)::int AS n FROM public.scores;`;

/** What the leaderboard and the top player are, computed from the rows themselves. */
const fromRows = (url: string) =>
  query<{ player: string; total: number }>(url, `SELECT player, sum(points)::int AS total FROM public.scores WHERE points > 0 GROUP BY player ORDER BY player`);
const leaderboard = (url: string) => query<{ player: string; total: number }>(url, `SELECT player, total FROM public.leaderboard ORDER BY player`);
const topPlayer = async (url: string) => (await query<{ player: string }>(url, `SELECT player FROM public.top_player`))[0]?.player;
const scalar = async (url: string, sql: string) => (await query<{ v: unknown }>(url, `SELECT (${sql}) AS v`))[0]?.v;

describe("staging's materialized views", () => {
  let production: Project;
  let staging: Project;
  beforeAll(async () => {
    [production, staging] = await Promise.all([stack.createProject('matviews_prod', { syncTarget: false }), stack.createProject('matviews_staging')]);
    for (const project of [production, staging]) await query(project.adminUrl, `SET ROLE postgres; ${SCHEMA}`);
    await query(
      production.adminUrl,
      `INSERT INTO public.scores SELECT i, 'player ' || (i % 7), (i * 37) % 101 FROM generate_series(1, 200) i;
       INSERT INTO public.scores VALUES (201, 'ghost', 0)`,
    );
    // Another role's view, which staging's role (and the functions' owner) may not refresh.
    await query(
      staging.adminUrl,
      `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supasync_analyst') THEN CREATE ROLE supasync_analyst NOLOGIN; END IF; END $$;
       GRANT USAGE ON SCHEMA public TO supasync_analyst; GRANT SELECT ON public.scores TO supasync_analyst;
       ALTER MATERIALIZED VIEW public.audited_scores OWNER TO supasync_analyst;`,
    );
  });
  afterAll(async () => {
    await Promise.all([production?.stop(), staging?.stop()]);
  });

  it.each(['postgres', 'rest'] as const)('that read the changed tables are refreshed, each after those it reads (via %s)', async (via) => {
    await query(
      staging.adminUrl,
      `TRUNCATE public.scores; INSERT INTO public.scores VALUES (1, 'staging only', 5);
       REFRESH MATERIALIZED VIEW public.leaderboard; REFRESH MATERIALIZED VIEW public.top_player;
       REFRESH MATERIALIZED VIEW public.inverse_points; SET ROLE supasync_analyst; REFRESH MATERIALIZED VIEW public.audited_scores;`,
    );
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    // A dry run names them, in the order a run refreshes them, and refreshes none.
    const dryRun = await runScript('sync.ts', ['--via', via, '--dry-run', '--tables', 'scores'], { env, cwd });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain(
      'Materialized views that read these tables: refreshed after the load: public.inverse_points, public.leaderboard, public.top_player; ' +
        'left as they are: public.audited_scores (owned by supasync_analyst), public.score_count (never populated).',
    );
    expect(await leaderboard(staging.adminUrl)).toEqual([{ player: 'staging only', total: 5 }]);
    const sync = await runScript('sync.ts', ['--via', via, '--yes', '--tables', 'scores'], { env, cwd });
    expect(sync.code, sync.stderr).toBe(0);
    expect(await leaderboard(staging.adminUrl)).toEqual(await fromRows(production.adminUrl));
    expect(await topPlayer(staging.adminUrl)).toBe(
      (await fromRows(production.adminUrl)).sort((a, b) => b.total - a.total || a.player.localeCompare(b.player))[0]?.player,
    );
    expect(sync.stdout).toContain(
      'Materialized views that read the changed tables: 2 refreshed (public.leaderboard, public.top_player), 3 not (see the warnings above).',
    );
    // Never populated: left so. Refused on the new rows (a points of 0) or another role's: as before, and said.
    expect(await scalar(staging.adminUrl, `SELECT relispopulated FROM pg_class WHERE oid = 'public.score_count'::regclass`)).toBe(false);
    expect(sync.stderr).toContain('public.inverse_points not refreshed: division by zero. It holds what it held before this run.');
    expect(await scalar(staging.adminUrl, 'SELECT count(*)::int FROM public.inverse_points')).toBe(1);
    expect(sync.stderr).toContain('public.audited_scores not refreshed: owned by supasync_analyst.');
    expect(await scalar(staging.adminUrl, 'SELECT n FROM public.audited_scores')).toBe(1);

    // A restore puts the views back in step with the rows it puts back.
    const restore = await runScript('restore-staging.ts', [backupLine(sync.stdout)!.restoreArgument, '--yes'], { env, cwd });
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain('Refreshed the materialized views that read them: public.inverse_points, public.leaderboard, public.top_player.');
    expect(restore.stdout).toContain('public.audited_scores not refreshed: owned by supasync_analyst.');
    expect(await leaderboard(staging.adminUrl)).toEqual([{ player: 'staging only', total: 5 }]);
    expect(await topPlayer(staging.adminUrl)).toBe('staging only');

    // A re-sync refreshes them when it changed rows, and only then.
    const mirror = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--no-backup', '--tables', 'scores'], { env });
    expect(mirror.code, mirror.stderr).toBe(0);
    expect(await leaderboard(staging.adminUrl)).toEqual(await fromRows(production.adminUrl));
    const equal = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--no-backup', '--tables', 'scores'], { env });
    expect(equal.code, equal.stderr).toBe(0);
    expect(equal.stdout).not.toContain('Materialized views');
    await query(production.adminUrl, `UPDATE public.scores SET points = points + 1000 WHERE id = 2`);
    try {
      const changed = await runScript('sync.ts', ['--via', via, '--mode', 'mirror', '--yes', '--no-backup', '--tables', 'scores'], { env });
      expect(changed.code, changed.stderr).toBe(0);
      expect(changed.stdout).toContain('2 refreshed (public.leaderboard, public.top_player)');
      expect(await leaderboard(staging.adminUrl)).toEqual(await fromRows(production.adminUrl));
      expect(await topPlayer(staging.adminUrl)).toBe('player 2');
    } finally {
      await query(production.adminUrl, `UPDATE public.scores SET points = points - 1000 WHERE id = 2`);
    }
  });
});
