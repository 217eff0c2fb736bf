// A misspelt key of supasync.config.json ("changedColum", "tabels") would
// drop its option unsaid: a run copying every row where a `where` was meant,
// an incremental run reading by updated_at where another column was named.
// The file is refused before anything connects, each unknown key named with
// the key it was probably meant to be, or with the keys that place takes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { query } from './helpers/content.ts';
import { emptyDirectory, runScript } from './helpers/run-script.ts';
import { envFor, sharedStack } from './setup/stack.ts';

const { production, staging } = sharedStack();

function configIn(config: unknown): string {
  const cwd = emptyDirectory();
  writeFileSync(join(cwd, 'supasync.config.json'), JSON.stringify(config));
  return cwd;
}

describe('supasync.config.json with keys it does not know', () => {
  it('names each misspelt key with the one meant, at every depth, and refuses the run before connecting', async () => {
    const cwd = configIn({
      tabels: { chat_messages: { mode: 'replace' } },
      tables: { chat_messages: { mdoe: 'replace', changedColum: 'edited_at' } },
      incremental: { overlapSecond: 60 },
      storage: { Buckets: ['avatars'] },
      mask: { 'profiles.email': { transformr: 'email' } },
    });
    const stagingRows = await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.chat_messages');
    for (const script of ['sync.ts', 'verify-sync-status.ts']) {
      const result = await runScript(script, script === 'sync.ts' ? ['--yes'] : [], { cwd, env: envFor(production, staging) });
      expect(result.code, script).toBe(2);
      expect(result.stderr).toContain('supasync.config.json has problems:');
      expect(result.stderr).toContain('(top level): unknown key "tabels" (did you mean "tables"?)');
      expect(result.stderr).toContain('tables.chat_messages: unknown keys "mdoe" (did you mean "mode"?), "changedColum" (did you mean "changedColumn"?)');
      expect(result.stderr).toContain('incremental: unknown key "overlapSecond" (did you mean "overlapSeconds"?)');
      expect(result.stderr).toContain('storage: unknown key "Buckets" (did you mean "buckets"?)');
      expect(result.stderr).toContain('mask["profiles.email"]: unknown key "transformr" (did you mean "transformer"?)');
      expect(result.stdout).toBe('');
    }
    expect(await query(staging.adminUrl, 'SELECT count(*)::int AS n FROM public.chat_messages')).toEqual(stagingRows);
  });

  it('lists the keys a place takes when an unknown one is near none of them', async () => {
    const cwd = configIn({ tables: { chat_messages: { filter: 'id > 1' } }, backups: { retain: 3 } });
    const result = await runScript('sync.ts', ['--dry-run'], { cwd, env: envFor(production, staging) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tables.chat_messages: unknown key "filter". The keys here: mode, changedColumn, batchSize, where');
    expect(result.stderr).toContain('backups: unknown key "retain". The keys here: keep');
  });
});
