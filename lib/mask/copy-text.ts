// COPY's text format, row by row, for a masked table on the direct path:
// production's COPY TO bytes in, the same rows with the masked columns
// replaced out, to staging's COPY FROM. A row ends at a newline (one inside
// a value is written \n), fields end at tabs (one inside is \t), NULL is \N.
// Memory stays at one chunk plus a partial row.
import { Transform, type TransformCallback } from 'node:stream';
import type { RowMask } from './apply.ts';

const NEWLINE = 0x0a;

const UNESCAPED: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** A field as COPY TO wrote it, read back; null for \N. */
export function decodeCopyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_match, escape: string) => {
    if (escape.length > 1 && escape[0] === 'x') return String.fromCharCode(parseInt(escape.slice(1), 16));
    if (/^[0-7]+$/.test(escape)) return String.fromCharCode(parseInt(escape, 8));
    return UNESCAPED[escape] ?? escape;
  });
}

/** A value as COPY FROM reads it. */
export function encodeCopyField(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

export class MaskCopyText extends Transform {
  private partial: Buffer | null = null;

  constructor(private readonly mask: RowMask) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      const data = this.partial ? Buffer.concat([this.partial, chunk]) : chunk;
      const last = data.lastIndexOf(NEWLINE);
      if (last < 0) {
        this.partial = data;
        callback();
        return;
      }
      this.partial = last + 1 < data.length ? Buffer.from(data.subarray(last + 1)) : null;
      const lines = data.toString('utf8', 0, last).split('\n');
      callback(null, Buffer.from(`${lines.map((line) => this.maskLine(line)).join('\n')}\n`, 'utf8'));
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    // COPY TO ends every row with a newline: anything left is a cut stream, passed on for COPY FROM to refuse.
    callback(null, this.partial ?? undefined);
  }

  /** Only the fields the mask reads are decoded, and only the ones it changed encoded again: the rest pass as they came. */
  private maskLine(line: string): string {
    const fields: (string | null)[] = line.split('\t');
    const row = fields.slice();
    for (const i of this.mask.reads) row[i] = decodeCopyField(fields[i] as string);
    const masked = this.mask(row);
    for (const i of this.mask.reads) if (masked[i] !== row[i]) fields[i] = encodeCopyField(masked[i] ?? null);
    return fields.join('\t');
  }
}
