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

/** Staging's triggers that would rewrite copied rows, with whether they are enabled ('O') or disabled ('D'). */
export const rewritingTriggers = (url: string) =>
  query(url, `SELECT tgname, tgenabled FROM pg_trigger WHERE tgname IN ('hotels_touch_updated_at', 'chat_messages_audit') ORDER BY 1`);

export const BOTH_ENABLED = [
  { tgname: 'chat_messages_audit', tgenabled: 'O' },
  { tgname: 'hotels_touch_updated_at', tgenabled: 'O' },
];
