// Which tables a run takes: the flags, else supasync.config.json's schemas
// and exclusions (an exclusion of the config's is dropped when tables are
// named: naming one is choosing it).
import { configFileName, type ProjectConfig } from '../config/file.ts';
import type { Selection } from '../plan/select.ts';
import type { FlagValues } from './flags.ts';

export function selectionFrom(flags: Pick<FlagValues, 'schemas' | 'exclude'>, config: ProjectConfig, tables: string[] | undefined, group?: string): Selection {
  return {
    schemas: flags.schemas?.map(unquoted) ?? config.schemas,
    tables,
    ...(group ? { tablesFrom: `${configFileName()}'s group "${group}" names` } : {}),
    exclude: flags.exclude ?? (tables ? undefined : config.exclude),
    options: config.tables,
  };
}

/** A schema written as SQL quotes it (`"Sales Data.eu"`, `""` for a quote inside), as --tables takes names: the name itself. */
function unquoted(schema: string): string {
  return schema.length > 1 && schema.startsWith('"') && schema.endsWith('"') ? schema.slice(1, -1).replaceAll('""', '"') : schema;
}
