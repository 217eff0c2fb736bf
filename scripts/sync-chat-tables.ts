// The chat group: chat_conversations, then chat_messages with its replies.
import { runScript } from '../lib/cli/run.ts';
import { runSyncCommand } from '../lib/cli/sync-command.ts';

await runScript(() =>
  runSyncCommand({
    name: 'npx tsx scripts/sync-chat-tables.ts',
    description:
      'Syncs the `chat` group of supasync.config.json (by default chat_conversations and chat_messages): conversations before messages, replies to replies included. Upserts by default: staging-only rows stay.',
    mode: 'upsert',
    group: 'chat',
    verify: false,
    choosesTables: true,
  }),
);
