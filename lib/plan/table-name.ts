// A table's name as --tables, --exclude and supasync.config.json take it.
import { UsageError } from '../errors.ts';

/**
 * `name`, `schema.name`, or either written as SQL quotes identifiers
 * (`public."Guest List.2024"`, `""` for a quote inside): a part in quotes is
 * taken as it is, dots and case included.
 */
export function tableName(name: string): { schema?: string; table: string; quoted: boolean } {
  if (!name.includes('"')) {
    const dot = name.indexOf('.');
    return dot > 0 ? { schema: name.slice(0, dot), table: name.slice(dot + 1), quoted: false } : { table: name, quoted: false };
  }
  const parts: string[] = [];
  let part = '';
  let inQuotes = false;
  for (let i = 0; i < name.length; i++) {
    const char = name.charAt(i);
    if (char === '"' && inQuotes && name.charAt(i + 1) === '"') {
      part += '"';
      i++;
    } else if (char === '"') inQuotes = !inQuotes;
    else if (char === '.' && !inQuotes) {
      parts.push(part);
      part = '';
    } else part += char;
  }
  parts.push(part);
  const [first = '', second] = parts;
  if (inQuotes || parts.length > 2 || !first || second === '') {
    throw new UsageError(
      `${name}: not a table name. Write it as name, schema.name, or with SQL's double quotes around a part that holds a dot or capitals: public."Guest List.2024".`,
    );
  }
  return second === undefined ? { table: first, quoted: true } : { schema: first, table: second, quoted: true };
}
