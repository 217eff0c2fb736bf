// Masking where staging's functions may not switch foreign-key checks off
// (REST, functions owned by a plain role): a cycle's tables go in one
// request and a self-reference in two passes, and the masked values must be
// the same in both. chat_messages' own key is masked (a uuid from its hash),
// so its replies' parent_message_id must follow it exactly, in the second
// pass too, or staging's checked foreign key refuses them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, stack } = sharedStack();

// Every message's depth in its thread: the reply structure, whatever the ids.
const DEPTHS = `
  WITH RECURSIVE thread AS (
    SELECT id, 0 AS depth FROM public.chat_messages WHERE parent_message_id IS NULL
    UNION ALL SELECT m.id, t.depth + 1 FROM public.chat_messages m JOIN thread t ON m.parent_message_id = t.id)
  SELECT depth, count(*)::int AS n FROM thread GROUP BY depth ORDER BY depth`;

describe('a masked REST sync whose staging functions may not set session_replication_role', () => {
  let staging: Project;
  const cwd = emptyDirectory();

  beforeAll(async () => {
    staging = await stack.createProject('mask_unprivileged_rest', { owner: 'plain_mask_owner' });
    writeFileSync(
      join(cwd, 'supasync.config.json'),
      JSON.stringify({
        // Small batches: replies come in earlier batches than the messages they answer.
        tables: { chat_messages: { batchSize: 25 } },
        mask: { 'chat_messages.id': 'hash', 'chat_messages.content': 'text', 'departments.name': 'name', 'employees.name': 'name' },
      }),
    );
  });
  afterAll(() => staging?.stop());

  it('masks a self-referencing key in both passes and a cycle in its one request, every reference kept', async () => {
    const result = await runScript('sync.ts', ['--via', 'rest', '--yes', '--tables', 'chat_messages,departments,employees', '--with-parents'], {
      cwd,
      env: { ...envFor(production, staging), SUPASYNC_MASK_SECRET: 'unprivileged-mask-secret-0123' },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain('public.chat_messages references itself: its rows are written with parent_message_id NULL, then a second pass sets it.');
    expect(result.stderr).toContain('public.departments <-> public.employees reference each other: they are written together in one request');

    // No message keeps its id, and the threads are the same threads.
    const ids = await query<{ n: number }>(staging.adminUrl, `SELECT count(*)::int AS n FROM public.chat_messages`);
    const [productionIds, stagingIds] = await Promise.all([
      query<{ id: string }>(production.adminUrl, 'SELECT id::text FROM public.chat_messages'),
      query<{ id: string }>(staging.adminUrl, 'SELECT id::text FROM public.chat_messages'),
    ]);
    expect(ids[0]?.n).toBe(productionIds.length);
    const kept = new Set(productionIds.map((row) => row.id));
    expect(stagingIds.filter((row) => kept.has(row.id))).toEqual([]);
    const [productionDepths, stagingDepths] = await Promise.all([query(production.adminUrl, DEPTHS), query(staging.adminUrl, DEPTHS)]);
    expect(stagingDepths).toEqual(productionDepths);
    expect(stagingDepths.length).toBeGreaterThan(2);

    // Free text replaced by filler of the same length; conversations (not masked) keep their messages.
    const shape = `SELECT conversation_id::text, length(content) AS len, count(*)::int AS n FROM public.chat_messages GROUP BY 1, 2 ORDER BY 1, 2`;
    expect(await query(staging.adminUrl, shape)).toEqual(await query(production.adminUrl, shape));
    const [productionContent, stagingContent] = await Promise.all([
      query<{ content: string }>(production.adminUrl, `SELECT content FROM public.chat_messages WHERE content <> ''`),
      query<{ content: string }>(staging.adminUrl, `SELECT content FROM public.chat_messages WHERE content <> ''`),
    ]);
    const said = new Set(productionContent.map((row) => row.content));
    expect(stagingContent.filter((row) => said.has(row.content))).toEqual([]);

    // The cycle: every name masked, every employee in its department, every head an employee.
    const names = `SELECT name FROM public.departments UNION ALL SELECT name FROM public.employees`;
    const [productionNames, stagingNames] = await Promise.all([
      query<{ name: string }>(production.adminUrl, names),
      query<{ name: string }>(staging.adminUrl, names),
    ]);
    const real = new Set(productionNames.map((row) => row.name));
    expect(stagingNames.length).toBe(productionNames.length);
    expect(stagingNames.filter((row) => row.name !== null && real.has(row.name))).toEqual([]);
    const joined = await query(
      staging.adminUrl,
      `SELECT (SELECT count(*)::int FROM public.employees e JOIN public.departments d ON d.id = e.department_id) AS employees,
              (SELECT count(*)::int FROM public.departments d JOIN public.employees e ON e.id = d.head_employee_id) AS heads`,
    );
    const expected = await query(
      production.adminUrl,
      `SELECT (SELECT count(*)::int FROM public.employees) AS employees, (SELECT count(*)::int FROM public.departments) AS heads`,
    );
    expect(joined).toEqual(expected);
  });
});
