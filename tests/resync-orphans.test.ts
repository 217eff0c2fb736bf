// The check of foreign keys once a re-sync's rows are in (lib/engine/orphans.ts):
// along a link between tables re-synced by key ranges, only the child rows
// the run wrote and those naming a parent key it deleted are looked at, over
// either transport. A re-sync then costs what changed there too, and is
// blamed for no orphan it did not make; a replace still checks every row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForeignKeyLink } from '../lib/catalog/links.ts';
import { orphansAfterLoad, type ResyncedTable } from '../lib/engine/orphans.ts';
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
};
/** What orphansAfterLoad reads of a table's plan. */
const planned = (mode: SyncMode) => [HOTELS, UNITS].map((table) => ({ table, mode, rowFilter: null }) as unknown as TablePlan);
const resynced = (units: Omit<ResyncedTable, 'keyColumns'>, hotels: Omit<ResyncedTable, 'keyColumns'>) =>
  new Map<string, ResyncedTable>([
    ['public.accommodation_units', { keyColumns: ['id'], ...units }],
    ['public.hotels', { keyColumns: ['id'], ...hotels }],
  ]);

describe('the check of foreign keys after a re-sync', () => {
  let project: Project;
  const opened: Database[] = [];
  beforeAll(async () => {
    project = await stack.createProject('resync_orphans');
    // As a re-sync may leave staging: hotel 1 there, 2 never copied, 3 deleted by the run, 4 missing before it.
    await query(
      project.adminUrl,
      `
      INSERT INTO public.hotels (id, name, created_at) VALUES ('${id('1')}', 'kept', now());
      SET session_replication_role = replica;
      INSERT INTO public.accommodation_units (id, hotel_id, name) VALUES
        ('${id('a1')}', '${id('1')}', 'written, its hotel there'),
        ('${id('a2')}', '${id('2')}', 'written, its hotel missing'),
        ('${id('a3')}', '${id('3')}', 'left alone, its hotel deleted by the run'),
        ('${id('a4')}', '${id('4')}', 'left alone, its hotel missing before the run');`,
    );
  });
  afterAll(async () => {
    await Promise.all(opened.map((database) => database.close()));
    await project.stop();
  });

  const open = async (via: 'postgres' | 'rest'): Promise<Database> => {
    const database =
      via === 'postgres'
        ? await openPostgresDatabase({ via, side: 'staging', dbUrl: project.dbUrl })
        : openRestDatabase({ via, side: 'staging', url: project.apiUrl, serviceRoleKey: project.secretKey });
    opened.push(database);
    return database;
  };

  for (const via of ['postgres', 'rest'] as const) {
    it(`looks only at the rows a re-sync wrote and those naming a key it deleted, and at every row after a replace (via ${via})`, async () => {
      const staging = await open(via);
      const check = (mode: SyncMode, done?: Map<string, ResyncedTable>) => orphansAfterLoad(staging, [UNIT_HOTEL], planned(mode), [], false, done);
      const found = await check('mirror', resynced({ written: [[id('a1')], [id('a2')]], removed: [] }, { written: [], removed: [[id('3')]] }));
      expect(found.map(({ rows, keys }) => ({ rows, keys }))).toEqual([{ rows: 2, keys: [`(${id('2')})`, `(${id('3')})`] }]);
      // Each end alone.
      const written = await check('mirror', resynced({ written: [[id('a2')]], removed: [] }, { written: [[id('1')]], removed: [] }));
      expect(written.map(({ keys }) => keys)).toEqual([[`(${id('2')})`]]);
      const deleted = await check('mirror', resynced({ written: [], removed: [] }, { written: [], removed: [[id('3')], [id('4')]] }));
      expect(deleted.map(({ keys }) => keys)).toEqual([[`(${id('3')})`, `(${id('4')})`]]);
      // Nothing written or deleted at either end: nothing to look at.
      expect(await check('mirror', resynced({ written: [], removed: [] }, { written: [], removed: [] }))).toEqual([]);
      // A table read whole, or replaced: every row.
      const whole = await check('mirror', resynced({ written: null, removed: [] }, { written: [], removed: [] }));
      expect(whole.map(({ rows }) => rows)).toEqual([3]);
      expect((await check('replace')).map(({ rows }) => rows)).toEqual([3]);
    });
  }

  it('looks at every child row where the parent is named by other columns than its key, which an update may change', async () => {
    const staging = await open('postgres');
    const byName: ForeignKeyLink = { ...UNIT_HOTEL, columns: ['name'], parentColumns: ['name'] };
    const found = await orphansAfterLoad(
      staging,
      [byName],
      planned('mirror'),
      [],
      false,
      resynced({ written: [], removed: [] }, { written: [[id('1')]], removed: [] }),
    );
    // No unit is named like hotel 1: all four point nowhere.
    expect(found.map(({ rows }) => rows)).toEqual([4]);
  });
});
