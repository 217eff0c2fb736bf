import type { CountComparison } from '../verify/counts.ts';
import { formatCount, renderTable } from './table.ts';

export function renderCountStatus(comparisons: CountComparison[]): string {
  return renderTable(
    ['Table', 'Production', 'Staging', 'Status'],
    comparisons.map((row) => [
      row.table,
      formatCount(row.production),
      formatCount(row.staging),
      row.equal ? '✅ Perfect' : '⚠️ counts differ',
    ]),
  );
}
