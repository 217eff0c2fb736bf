// A direct run holds every lock it takes to its end: production's snapshot
// reads every table, staging's one transaction empties and writes them. Each
// table, partition, index and TOAST table takes a slot of the server's shared
// lock table, and thousands of partitions fill it: staging's run then fails
// with "out of shared memory" partway through, and on production every other
// session asking for a lock meanwhile fails alike. Counted before anything is
// read or written, on each side the run reaches directly.
import { countOf, formatCount } from '../counts.ts';
import { DatabaseError } from '../errors.ts';
import type { TablePlan } from '../plan/types.ts';
import type { Database } from '../transport/database.ts';
import type { LockRoom } from '../transport/reads.ts';

/** Of what production's lock table has free, the share one run may hold: the rest is its app's. */
const PRODUCTION_SHARE = 0.5;

export async function refuseLockTableOverflow(production: Database, staging: Database, tables: TablePlan[]): Promise<void> {
  const refs = tables.map(({ table }) => table);
  if (!refs.length) return;
  for (const [side, share, taking] of [
    [staging, 1, 'writes'],
    [production, PRODUCTION_SHARE, 'reads'],
  ] as const) {
    const room = await side.lockRoom?.(refs);
    if (!room) continue;
    const taken = room.tables.map((table) => ({ ...table, locks: table[taking] }));
    const needed = taken.reduce((sum, table) => sum + table.locks, 0);
    const free = room.perTransaction * room.backends - room.held;
    if (needed > free * share) throw new DatabaseError(lockRoomRefusal(side.side, room, taken, needed, free, share));
  }
}

function lockRoomRefusal(
  side: 'production' | 'staging',
  room: LockRoom,
  /** Per table, the slots the run would take for it. */
  taken: { schema: string; name: string; relations: number; locks: number }[],
  needed: number,
  free: number,
  share: number,
): string {
  const largest = [...taken]
    .sort((a, b) => b.locks - a.locks)
    .slice(0, 3)
    .map(
      (table) =>
        `${table.schema}.${table.name} ${table.relations > 1 ? `(${countOf(table.relations, 'table')} with its partitions) ` : ''}${formatCount(table.locks)}`,
    );
  // Room for the run with a quarter to spare, in the power of two PostgreSQL's own defaults use.
  const wanted = Math.max(room.perTransaction * 2, 2 ** Math.ceil(Math.log2(((needed / share) * 1.25 + room.held) / room.backends)));
  const Side = side === 'staging' ? 'Staging' : 'Production';
  return [
    `${Side}'s server has ${formatCount(room.perTransaction * room.backends)} lock slots (max_locks_per_transaction ${room.perTransaction} x ${room.backends} connections), ` +
      `${formatCount(room.held)} taken now, and this run would hold about ${formatCount(needed)} until it ends: one per table, partition, index${side === 'staging' ? ' and TOAST table' : ''} ` +
      `(most: ${largest.join(', ')}).`,
    side === 'staging'
      ? `It would fail with "out of shared memory" partway through. No row was read or written.`
      : `That is more than half of what is free (${formatCount(free)}): meanwhile production's own sessions could fail with "out of shared memory". No row was read or written.`,
    // Runs of fewer tables help only where no one table needs more than the room alone.
    `${taken.some((table) => table.locks > free * share) ? 'Raise' : 'Sync the tables in several runs (--tables), or raise'} ${side}'s max_locks_per_transaction to ${wanted} ` +
      `(a restart; on Supabase: supabase postgres-config update --project-ref <ref> --config max_locks_per_transaction=${wanted}).`,
  ].join('\n');
}
