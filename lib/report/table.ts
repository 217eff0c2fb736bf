// Plain text tables for the terminal, in the seed's markdown-like shape.

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(width(header), ...rows.map((row) => width(row[i] ?? ''))));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell + ' '.repeat((widths[i] ?? 0) - width(cell))).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

// Terminal columns: emoji and wide East Asian characters take two; the
// variation selector and escape codes for colour take none.
function width(text: string): number {
  let total = 0;
  const chars = [...text.replace(/\x1b\[[0-9;]*m/g, '')];
  chars.forEach((char, i) => {
    const code = char.codePointAt(0) ?? 0;
    if (code === 0xfe0f || (code >= 0x300 && code <= 0x36f)) return;
    // A symbol followed by the emoji variation selector (⚠️) is drawn two columns wide.
    const emoji = chars[i + 1] === '\ufe0f' || code >= 0x1f300 || code === 0x2705 || code === 0x274c;
    const wide =
      code >= 0x1100 &&
      (code <= 0x115f ||
        (code >= 0x2e80 && code <= 0xa4cf) ||
        (code >= 0xac00 && code <= 0xd7a3) ||
        (code >= 0xf900 && code <= 0xfaff) ||
        (code >= 0xff00 && code <= 0xff60));
    total += emoji || wide ? 2 : 1;
  });
  return total;
}
