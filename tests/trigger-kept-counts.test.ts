// Lemmy keeps counts in other tables with triggers: a post's author's
// post_count (a statement trigger over the inserted rows), a community's
// total (a row trigger on INSERT, UPDATE and DELETE). A sync fires none of
// staging's triggers, so a run of the posts alone leaves those counts as
// staging's own rows made them, and exited 0 unsaid (lab9). The plan and the
// run now name the tables the triggers update; copied with the posts, they
// come as production has them, and nothing is said.
import { describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query, tableDigests } from './helpers/content.ts';
import { projectPair } from './helpers/project-pair.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA forum;
  CREATE TABLE forum.person (id int PRIMARY KEY, post_count int NOT NULL DEFAULT 0);
  CREATE TABLE forum.community (id int PRIMARY KEY, posts int NOT NULL DEFAULT 0);
  CREATE TABLE forum.post (id int PRIMARY KEY, creator_id int NOT NULL REFERENCES forum.person, community_id int NOT NULL REFERENCES forum.community);
  CREATE FUNCTION forum.count_authors() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    UPDATE forum.person AS p SET post_count = p.post_count + n.c FROM (SELECT creator_id, count(*) AS c FROM new_rows GROUP BY 1) n WHERE p.id = n.creator_id;
    RETURN NULL;
  END $$;
  CREATE TRIGGER post_authors AFTER INSERT ON forum.post REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION forum.count_authors();
  CREATE FUNCTION forum.count_community() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN Update "forum"."community" SET posts = posts + 1 WHERE id = NEW.community_id; END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN UPDATE ONLY forum.community SET posts = posts - 1 WHERE id = OLD.community_id; END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER post_community AFTER INSERT OR UPDATE OR DELETE ON forum.post FOR EACH ROW EXECUTE FUNCTION forum.count_community();
  -- A counts table kept by upserts; a table named without its schema (forum's users, not auth's); a touch trigger
  -- whose comment and message name a table it never writes.
  CREATE TABLE forum.stats (k text PRIMARY KEY, n int NOT NULL);
  CREATE TABLE forum.users (id int PRIMARY KEY, posts int NOT NULL DEFAULT 0);
  CREATE TABLE forum.ghost (n int);
  CREATE FUNCTION forum.count_stats() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO forum.stats AS s VALUES ('posts', 1) ON CONFLICT (k) DO UPDATE SET n = s.n + 1;
    RETURN NULL;
  END $$;
  CREATE TRIGGER post_stats AFTER INSERT ON forum.post FOR EACH ROW EXECUTE FUNCTION forum.count_stats();
  CREATE FUNCTION forum.count_users() RETURNS trigger LANGUAGE plpgsql SET search_path = forum AS $$
  BEGIN
    UPDATE users SET posts = posts + 1 WHERE id = NEW.creator_id;
    RETURN NULL;
  END $$;
  CREATE TRIGGER post_users AFTER INSERT ON forum.post FOR EACH ROW EXECUTE FUNCTION forum.count_users();
  CREATE FUNCTION forum.touch() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    -- once this did UPDATE forum.ghost SET n = 0 here
    /* and UPDATE forum.ghost SET n = 1 there */
    RAISE NOTICE 'would UPDATE forum.ghost SET n = 2';
    RETURN NEW;
  END $$;
  CREATE TRIGGER post_touch BEFORE UPDATE ON forum.post FOR EACH ROW EXECUTE FUNCTION forum.touch();`;

describe('triggers that keep counts in other tables', () => {
  let production: Project;
  let staging: Project;
  projectPair('keptcounts', SCHEMA, async (pair) => {
    ({ production, staging } = pair);
    await query(
      production.adminUrl,
      `INSERT INTO forum.person VALUES (1), (2); INSERT INTO forum.community VALUES (10); INSERT INTO forum.users VALUES (1), (2);
       INSERT INTO forum.post SELECT i, 1 + i % 2, 10 FROM generate_series(1, 5) i`,
    );
  });
  const NOTE =
    "forum.post: staging's triggers post_authors, post_community, post_stats, post_users do not fire for the rows a sync copies, " +
    'and forum.community, forum.person, forum.stats, forum.users, which they update as its rows come and go (counts, totals), are not in this run: ' +
    "what they hold there stays what staging's own rows made it, not production's. Copy those tables too (--tables, or their schema in --schemas).";

  it.each(['postgres', 'rest'] as const)('are named where the run leaves their tables out, and not where it copies them (via %s)', async (via) => {
    const env = envFor(production, staging);
    const cwd = emptyDirectory();
    const sync = (...args: string[]) => runScript('sync.ts', ['--via', via, '--yes', '--no-backup', ...args], { env, cwd });
    // Staging holds the people and the community with counts of none.
    await query(
      staging.adminUrl,
      `TRUNCATE forum.post, forum.person, forum.community, forum.stats, forum.users;
       INSERT INTO forum.person VALUES (1), (2); INSERT INTO forum.community VALUES (10); INSERT INTO forum.users VALUES (1), (2)`,
    );
    const plan = await sync('--tables', 'forum.post', '--dry-run');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout.replace(/\s+/g, ' ')).toContain(NOTE);
    const posts = await sync('--tables', 'forum.post');
    expect(posts.code, posts.stderr).toBe(0);
    expect((posts.stdout + posts.stderr).replace(/\s+/g, ' ')).toContain(NOTE);
    // As said: the posts came, the counts did not.
    expect(await query(staging.adminUrl, 'SELECT sum(post_count)::int AS n FROM forum.person')).toEqual([{ n: 0 }]);
    const all = await sync('--schemas', 'forum');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout + all.stderr).not.toContain('do not fire for the rows a sync copies');
    expect(await tableDigests(staging.adminUrl, ['forum'])).toEqual(await tableDigests(production.adminUrl, ['forum']));
  });
});
