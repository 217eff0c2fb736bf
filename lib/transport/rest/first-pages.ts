// Most tables of an app are a page, and each page was a request of its
// own: a schema of small tables waited a round trip per table before each
// first write (over the internet 100 ms or more apiece). The first pages of
// up to eight tables now come in one request (supasync_read_first_pages,
// functions version 33), each cut at the bytes its own first page would be,
// and no more pages once a full page's bytes are in (a page holds at least
// one row, which may be large): the tables past that read their own. A
// table with more rows goes on page by page from there, as ever. The group of a table is read when the
// first of its tables starts: the tables after it in the plan's order, which
// the sync starts next. A table whose request turns out otherwise when its
// copy starts (another filter, fewer columns) reads alone, as does every
// table of a group whose request failed: its failure then names its table.
import type { SupabaseClient } from '@supabase/supabase-js';
import { qualifiedName } from '../../catalog/types.ts';
import { functionsVersionOf } from './functions-version.ts';
import { callRpc, type OnRetry } from './rpc.ts';
import { PAGE_BYTES, type Row } from './row-size.ts';
import { firstPageBytes, pageRequest, type PagedTable } from './rows.ts';

/** Functions from this version read several tables' first pages in one request. */
export const FIRST_PAGES_SINCE = 33;
const TABLES_A_REQUEST = 8;

interface Member {
  request: ReturnType<typeof pageRequest>;
  page?: Promise<Row[] | undefined>;
}

export class FirstPages {
  private readonly members = new Map<string, Member>();
  private readonly order: string[];

  /** `tables` in the order their copies start. */
  constructor(
    private readonly production: SupabaseClient,
    tables: PagedTable[],
    private readonly onRetry: OnRetry,
  ) {
    for (const table of tables) this.members.set(qualifiedName(table.table), { request: pageRequest(table, null, firstPageBytes(table)) });
    this.order = [...this.members.keys()];
  }

  /**
   * Reads the group of the table whose copy starts first now, while staging is emptied: its first write need not wait
   * for the request.
   */
  readFirstGroup(): void {
    const first = this.order.find((name) => this.members.has(name));
    const member = first === undefined ? undefined : this.members.get(first);
    if (first !== undefined && member && !member.page) void this.readGroupOf(first, member);
  }

  /**
   * `table`'s first page, read with the next tables' if it was not yet; undefined: read it alone. The page was asked
   * as `table` asks for its own (else undefined), so it was cut at `firstPageBytes(table)`.
   */
  take(table: PagedTable): Promise<Row[] | undefined> | undefined {
    const name = qualifiedName(table.table);
    const member = this.members.get(name);
    if (!member) return undefined;
    this.members.delete(name);
    if (JSON.stringify(member.request) !== JSON.stringify(pageRequest(table, null, firstPageBytes(table)))) return undefined;
    return member.page ?? this.readGroupOf(name, member);
  }

  /** Reads `name`'s first page with those of the tables after it not read yet. */
  private readGroupOf(name: string, member: Member): Promise<Row[] | undefined> {
    const group = [member];
    for (let i = this.order.indexOf(name) + 1; i < this.order.length && group.length < TABLES_A_REQUEST; i++) {
      const next = this.members.get(this.order[i] as string);
      if (next && !next.page) group.push(next);
    }
    if (group.length === 1) return Promise.resolve(undefined);
    const pages = this.readPages(group.map((each) => each.request));
    group.forEach((each, i) => {
      each.page = pages.then((read) => read?.[i] ?? undefined);
    });
    return member.page as Promise<Row[] | undefined>;
  }

  private async readPages(requests: Member['request'][]): Promise<(Row[] | null)[] | undefined> {
    try {
      if ((await functionsVersionOf(this.production)) < FIRST_PAGES_SINCE) return undefined;
      const pages = await callRpc<(Row[] | null)[]>(
        this.production,
        'supasync_read_first_pages',
        { reads: requests, total_bytes: PAGE_BYTES },
        { onRetry: this.onRetry },
      );
      return Array.isArray(pages) && pages.length === requests.length ? pages : undefined;
    } catch {
      return undefined;
    }
  }
}
