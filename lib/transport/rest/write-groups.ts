// Most tables of an app are a page, and each page's write was a request of
// its own: a replace of a schema of small tables sent about as many writes
// as tables. Under the replica role the order tables are written in does
// not matter inside one transaction, so the small batches that are ready in
// the same turn of the event loop (the tables of one request of first pages
// reach their writes together) go in one request (supasync_write_tables,
// functions version 34). Should it fail, every batch of it is sent on its
// own, as before, and a table whose batch was in a failed request sends its
// batches alone from then on: a row staging rejects is bisected, and named,
// in its own table's requests.
import type { SupabaseClient } from '@supabase/supabase-js';
import * as z from 'zod';
import { functionsVersionOf } from './functions-version.ts';
import { callRpc, RpcFailure, type OnRetry } from './rpc.ts';
import { FIRST_PAGE_BYTES, PAGE_BYTES, rowBytes, type Row } from './row-size.ts';

/** Functions from this version write several tables' batches in one request. */
export const WRITE_TABLES_SINCE = 34;
const BATCHES_A_REQUEST = 16;

/** What supasync_write_rows is sent for one batch. */
export type WriteBatch = {
  table_schema: string;
  table_name: string;
  columns: string[];
  key_columns: string[];
  rows: Row[];
  update_existing: boolean;
};

type WriteAlone = (batch: WriteBatch) => Promise<number>;

interface Waiting {
  /** Its table, qualified. */
  table: string;
  batch: WriteBatch;
  bytes: number;
  alone: WriteAlone;
  settle: (written: number) => void;
  fail: (error: unknown) => void;
}

const WRITTEN = z.array(z.object({ written: z.coerce.number() }));

export class WriteGroups {
  private waiting: Waiting[] = [];
  /** Tables a failed request held a batch of: theirs go alone from then on. */
  private readonly alone = new Set<string>();

  constructor(
    private readonly staging: SupabaseClient,
    private readonly onRetry: OnRetry,
  ) {}

  /** Writes `batch` of `table` (qualified), with others' where it is small: resolves to the rows written. */
  write(table: string, batch: WriteBatch, alone: WriteAlone): Promise<number> {
    const bytes = batch.rows.reduce((sum, row) => sum + rowBytes(row), 0);
    if (bytes > FIRST_PAGE_BYTES || this.alone.has(table)) return alone(batch);
    return new Promise((settle, fail) => {
      if (!this.waiting.length) setImmediate(() => this.flush());
      this.waiting.push({ table, batch, bytes, alone, settle, fail });
    });
  }

  private flush(): void {
    // In the tables' order: a table whose triggers a write switches off is locked (SHARE ROW EXCLUSIVE) to its
    // transaction's end, and requests that each lock several tables in one order cannot wait for one another.
    const waiting = this.waiting.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
    this.waiting = [];
    let group: Waiting[] = [];
    let bytes = 0;
    for (const each of waiting) {
      if (group.length === BATCHES_A_REQUEST || bytes + each.bytes > PAGE_BYTES) {
        void this.send(group);
        group = [];
        bytes = 0;
      }
      group.push(each);
      bytes += each.bytes;
    }
    if (group.length) void this.send(group);
  }

  private async send(group: Waiting[]): Promise<void> {
    let written: number[] | undefined;
    try {
      written = group.length > 1 ? await this.writeTogether(group) : undefined;
    } catch (error) {
      // A project that does not answer fails each batch with it, as their own requests would, not once more each.
      for (const each of group) each.fail(error);
      return;
    }
    if (written) group.forEach((each, i) => each.settle(written[i] as number));
    else for (const each of group) each.alone(each.batch).then(each.settle, each.fail);
  }

  /** Each batch's rows written; undefined where the functions are older, or the request failed otherwise than in passing: each then goes alone. */
  private async writeTogether(group: Waiting[]): Promise<number[] | undefined> {
    try {
      if ((await functionsVersionOf(this.staging)) < WRITE_TABLES_SINCE) return undefined;
      const written = await callRpc(
        this.staging,
        'supasync_write_tables',
        { batches: group.map((each) => each.batch) },
        { onRetry: this.onRetry, answer: WRITTEN.length(group.length) },
      );
      return written.map((each) => each.written);
    } catch (error) {
      if (error instanceof RpcFailure && error.kind === 'transient') throw error;
      for (const each of group) this.alone.add(each.table);
      return undefined;
    }
  }
}
