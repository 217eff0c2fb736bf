// A key as PostgreSQL prints ROW(...)::text ("(a,\"b c\",)"), taken apart
// and put back together: the checks of references between production and
// staging (missing parents, orphans) carry keys in that form, send each
// key's values to be compared by their types, and compare a masked key as
// staging holds it.

/** The fields of a record's text (record_out); null for an unquoted empty field, which is NULL. */
export function parseRowText(text: string): (string | null)[] {
  if (!text.startsWith('(') || !text.endsWith(')')) throw new Error(`not a row's text: ${text}`);
  const fields: (string | null)[] = [];
  let at = 1;
  const end = text.length - 1;
  for (;;) {
    let value = '';
    let quoted = false;
    while (at < end && text[at] !== ',') {
      const c = text[at] as string;
      if (c === '"') {
        quoted = true;
        at++;
        while (at < end) {
          const q = text[at] as string;
          if (q === '\\') {
            value += text[at + 1] ?? '';
            at += 2;
          } else if (q === '"' && text[at + 1] === '"') {
            value += '"';
            at += 2;
          } else if (q === '"') {
            at++;
            break;
          } else {
            value += q;
            at++;
          }
        }
      } else {
        value += c;
        at++;
      }
    }
    fields.push(quoted || value !== '' ? value : null);
    if (at >= end) return fields;
    at++;
  }
}

/** As record_out writes it: a field quoted when empty or holding a quote, backslash, bracket, comma or space. */
export function rowText(fields: (string | null)[]): string {
  const field = (value: string | null) => {
    if (value === null) return '';
    if (value !== '' && !/["\\(),\s]/.test(value)) return value;
    return `"${value.replace(/["\\]/g, (c) => c + c)}"`;
  };
  return `(${fields.map(field).join(',')})`;
}
