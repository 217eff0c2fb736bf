// A type whose text output keeps fewer digits than its values (PostGIS's
// box2d and box3d: 15 significant digits a coordinate) is copied through
// that text, and arrives rounded where verify cannot see it. Every run says
// so before writing, naming the column and how to keep it exact. PostGIS is
// not in the test stack: a domain of that name stands in for its type (the
// warning goes by the type's name, as PostGIS installs it in any schema).
import { describe, expect, it } from 'vitest';
import type { Via } from '../lib/config/env.ts';
import type { Project } from '../stack/index.ts';
import { projectPair } from './helpers/project-pair.ts';
import { runScript } from './helpers/run-script.ts';
import { envFor } from './setup/stack.ts';

const SCHEMA = `CREATE SCHEMA app;
  CREATE DOMAIN app.box2d AS text;
  CREATE TABLE app.parcels (id int PRIMARY KEY, bbox app.box2d, corners app.box2d[], label text);`;

describe('a column whose type rounds its values in text', () => {
  let production: Project;
  let staging: Project;
  projectPair('rounded_output', SCHEMA, (pair) => {
    ({ production, staging } = pair);
  });

  it.each(['postgres', 'rest'] as Via[])('is named before the run, with how to copy it exactly (via %s)', async (via) => {
    const env = envFor(production, staging);
    for (const script of ['sync.ts', 'verify-sync-status.ts']) {
      const run = await runScript(script, ['--via', via, '--schemas', 'app', ...(script === 'sync.ts' ? ['--dry-run'] : [])], { env });
      expect(run.code, run.stderr).toBe(0);
      for (const column of ['bbox (app.box2d)', 'corners (app.box2d[])']) {
        expect(run.stderr).toContain(
          `warning: app.parcels.${column}: PostGIS writes a box with 15 significant digits per coordinate, and supasync copies it as that text`,
        );
      }
      expect(run.stderr).toContain('To copy it exactly, keep the box as geometry (ST_Envelope), or compute it from one in a generated column.');
      expect(run.stderr).not.toContain('app.parcels.label');
    }
  });
});
