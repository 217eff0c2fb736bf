// What a load with checks on (no replica role) must leave as it found it:
// the cycle's foreign keys, and staging's own triggers.
import { query } from './content.ts';

/**
 * The foreign keys of the fixture's cycles, with their timing and definition:
 * departments <-> employees, and invoices <-> invoicing_ranges, whose keys on
 * invoices are declared on each of its partitions.
 */
export const cycleKeys = (url: string) =>
  query<{ table: string; conname: string; condeferrable: boolean; condeferred: boolean; definition: string }>(
    url,
    `SELECT conrelid::regclass::text AS table, conname, condeferrable, condeferred, pg_get_constraintdef(oid) AS definition
     FROM pg_constraint WHERE contype = 'f' AND conrelid IN (
       'public.departments'::regclass, 'public.employees'::regclass,
       'public.invoicing_ranges'::regclass, 'public.invoices_2025'::regclass, 'public.invoices_2026'::regclass) ORDER BY 1, 2`,
  );

/** Staging's triggers and rules that would rewrite copied rows, with their mode: enabled ('O'), ALWAYS ('A'), REPLICA ('R'), or disabled ('D'). */
export const rewritingTriggers = (url: string) =>
  query(
    url,
    `SELECT tgname, tgenabled::text FROM pg_trigger
     WHERE tgname IN ('hotels_touch_updated_at', 'chat_messages_audit', 'booking_notes_sign', 'sire_countries_mark', 'booking_events_2026_tag',
                     'sire_cities_emptied', 'sire_cities_emptied_always')
     UNION ALL
     SELECT rulename, ev_enabled::text FROM pg_rewrite WHERE rulename IN ('sire_countries_keep', 'sire_countries_ignore', 'sire_countries_frozen', 'hotels_keep_name')
     ORDER BY 1`,
  );

/** Each as the fixture declares it. */
export const BOTH_ENABLED = [
  { tgname: 'booking_events_2026_tag', tgenabled: 'A' },
  { tgname: 'booking_notes_sign', tgenabled: 'A' },
  { tgname: 'chat_messages_audit', tgenabled: 'O' },
  { tgname: 'hotels_keep_name', tgenabled: 'O' },
  { tgname: 'hotels_touch_updated_at', tgenabled: 'O' },
  { tgname: 'sire_cities_emptied', tgenabled: 'O' },
  { tgname: 'sire_cities_emptied_always', tgenabled: 'A' },
  { tgname: 'sire_countries_frozen', tgenabled: 'D' },
  { tgname: 'sire_countries_ignore', tgenabled: 'R' },
  { tgname: 'sire_countries_keep', tgenabled: 'R' },
  { tgname: 'sire_countries_mark', tgenabled: 'R' },
];
