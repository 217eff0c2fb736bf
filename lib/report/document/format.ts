// Which format a --report file is written in, told by its name: checked
// while the flags are read, so a wrong name stops the run before it connects.
import { extname } from 'node:path';
import { UsageError } from '../../errors.ts';

export type ReportFormat = 'markdown' | 'html';

const FORMATS: Record<string, ReportFormat> = { '.md': 'markdown', '.html': 'html', '.htm': 'html' };

export function reportFormat(file: string): ReportFormat {
  const format = FORMATS[extname(file).toLowerCase()];
  if (!format) {
    throw new UsageError(
      `--report ${file}: name the file .md for Markdown or .html (or .htm) for an HTML page; the name's ending chooses the format. Nothing was changed.`,
    );
  }
  return format;
}
