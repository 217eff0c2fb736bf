// The check of foreign keys once a re-sync's rows are in (lib/engine/orphans-after-load.ts):
// along a link between tables re-synced by key ranges, only the child rows
// the run wrote (those whose xmin is past staging's transactions as it began)
// and those naming a parent key it deleted are looked at, over either
// transport. A re-sync then costs what changed there too, and is
// blamed for no orphan it did not make; a replace still checks every row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForeignKeyLink } from '../lib/catalog/links.ts';
import { orphansAfterLoad, type Resynced, type ResyncedTable } from '../lib/engine/orphans-after-load.ts';
import { writtenSince } from '../lib/engine/transaction-watermark.ts';
import type { SyncMode } from '../lib/plan/mode.ts';
import type { TablePlan } from '../lib/plan/types.ts';
import type { Database } from '../lib/transport/database.ts';
import { openPostgresDatabase } from '../lib/transport/postgres/database.ts';
import { openRestDatabase } from '../lib/transport/rest/database.ts';
import type { Project } from '../stack/index.ts';
import { query } from './helpers/content.ts';
import { sharedStack } from './setup/stack.ts';

const { stack } = sharedStack();

const id = (end: string) => `00000000-0000-0000-0000-${end.padStart(12, '0')}`;
const HOTELS = { schema: 'public', name: 'hotels' };
const UNITS = { schema: 'public', name: 'accommodation_units' };
const UNIT_HOTEL: ForeignKeyLink = {
  name: 'accommodation_units_hotel_id_fkey',
  child: UNITS,
  columns: ['hotel_id'],
  childRows: null,
  parent: HOTELS,
  parentRelation: HOTELS,
  parentColumns: ['id'],
  validated: true,
  heldInProduction: true,
  childInProduction: true,
  rewritesChildOnUpdate: false,
  rewritesChildOnDelete: false,
};
/** What orphansAfterLoad reads of a table's plan. */
const planned = (mode: SyncMode) => [HOTELS, UNITS].map((table) => ({ table, mode, rowFilter: null }) as unknown as TablePlan);
/** What the run did to each table; the rows it wrote are those written since `since` (64-bit transaction id). */
const resynced = (since: string, units: Omit<ResyncedTable, 'keyColumns'>, hotels: Omit<ResyncedTable, 'keyColumns'>): Resynced => ({
  tables: new Map([
    ['public.accommodation_units', { keyColumns: ['id'], ...units }],
    ['public.hotels', { keyColumns: ['id'], ...hotels }],
  ]),
  rowsWritten: writtenSince(since),
});

describe('the check of foreign keys after a re-sync', () => {
  let project: Project;
  /** Staging's transactions as the run began. */
  let since: string;
  const opened: Database[] = [];
  const open = async (via: 'postgres' | 'rest'): Promise<Database> => {
    const database =
      via === 'postgres'
        ? await openPostgresDatabase({ via, side: 'staging', dbUrl: project.dbUrl })
        : openRestDatabase({ via, side: 'staging', url: project.apiUrl, serviceRoleKey: project.secretKey });
    opened.push(database);
    return database;
  };
  beforeAll(async () => {
    project = await stack.createProject('resync_orphans');
    // As a re-sync may leave staging: hotel 1 there, 2 never copied, 3 deleted by the run, 4 missing before it.
    const units = (rows: [string, string, string][]) =>
      `SET session_replication_role = replica;
       INSERT INTO public.accommodation_units (id, hotel_id, name) VALUES ${rows.map(([unit, hotel, name]) => `('${id(unit)}', '${id(hotel)}', '${name}')`).join(', ')};`;
    await query(
      project.adminUrl,
      `INSERT INTO public.hotels (id, name, created_at) VALUES ('${id('1')}', 'kept', now());
       ${units([
         ['a3', '3', 'left alone, its hotel deleted by the run'],
         ['a4', '4', 'left alone, its hotel missing before the run'],
       ])}`,
    );
    // Between the two inserts: this transaction's own id, after the first committed. (Staging's clock, as a run reads it,
    // is the oldest transaction running anywhere in the cluster: another test's, older than the first insert, would put it before.)
    since = ((await query<{ xid: string }>(project.adminUrl, 'SELECT pg_current_xact_id()::text AS xid'))[0] as { xid: string }).xid;
    await query(
      project.adminUrl,
      units([
        ['a1', '1', 'written, its hotel there'],
        ['a2', '2', 'written, its hotel missing'],
      ]),
    );
  });
  afterAll(async () => {
    await Promise.all(opened.map((database) => database.close()));
    await project.stop();
  });

  for (const via of ['postgres', 'rest'] as const) {
    it(`looks only at the rows a re-sync wrote and those naming a key it deleted, and at every row after a replace (via ${via})`, async () => {
      const staging = await open(via);
      const check = (mode: SyncMode, done: Resynced | null = null) => orphansAfterLoad(staging, [UNIT_HOTEL], planned(mode), [], false, done);
      const found = await check('mirror', resynced(since, { written: 'some', removed: [] }, { written: 'none', removed: [[id('3')]] }));
      expect(found.map(({ rows, keys }) => ({ rows, keys }))).toEqual([{ rows: 2, keys: [`(${id('2')})`, `(${id('3')})`] }]);
      // Each end alone.
      const written = await check('mirror', resynced(since, { written: 'some', removed: [] }, { written: 'some', removed: [] }));
      expect(written.map(({ keys }) => keys)).toEqual([[`(${id('2')})`]]);
      const deleted = await check('mirror', resynced(since, { written: 'none', removed: [] }, { written: 'none', removed: [[id('3')], [id('4')]] }));
      expect(deleted.map(({ keys }) => keys)).toEqual([[`(${id('3')})`, `(${id('4')})`]]);
      // Nothing written or deleted at either end: nothing to look at.
      expect(await check('mirror', resynced(since, { written: 'none', removed: [] }, { written: 'none', removed: [] }))).toEqual([]);
      // A table read whole, or replaced: every row.
      const whole = await check('mirror', resynced(since, { written: 'every', removed: [] }, { written: 'none', removed: [] }));
      expect(whole.map(({ rows }) => rows)).toEqual([3]);
      expect((await check('replace')).map(({ rows }) => rows)).toEqual([3]);
    });
  }

  it('looks at every child row where the parent is named by other columns than its key, which an update may change', async () => {
    const staging = await open('postgres');
    const byName: ForeignKeyLink = { ...UNIT_HOTEL, columns: ['name'], parentColumns: ['name'] };
    const done = resynced(since, { written: 'none', removed: [] }, { written: 'some', removed: [] });
    const found = await orphansAfterLoad(staging, [byName], planned('mirror'), [], false, done);
    // No unit is named like hotel 1: all four point nowhere.
    expect(found.map(({ rows }) => rows)).toEqual([4]);
  });
});
