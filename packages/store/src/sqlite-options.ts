import { silentLogger, type Logger } from '@gos/schema';
import { checkObject, invalid, optionalInt } from './common.js';
import type { SqliteStoreOptions } from './types.js';

export interface ResolvedSqliteOptions {
  readonly file: string;
  readonly busyTimeoutMs: number;
  readonly logger: Logger;
}

const SQLITE_OPTION_KEYS = new Set(['file', 'busyTimeoutMs', 'logger']);

/** Validate `SqliteStoreOptions` once, merge the defaults and freeze. @throws OPT_ERR_INVALID */
export function resolveSqliteOptions(options: SqliteStoreOptions): ResolvedSqliteOptions {
  const o = checkObject('SqliteStore options', options);
  for (const key of Object.keys(o)) if (!SQLITE_OPTION_KEYS.has(key)) throw invalid(`SqliteStore options.${key} is not an option`);
  if (typeof o.file !== 'string' || o.file.length === 0) throw invalid("SqliteStore options.file must be a file path or ':memory:'");
  return Object.freeze({
    file: o.file,
    busyTimeoutMs: optionalInt('SqliteStore options.busyTimeoutMs', o.busyTimeoutMs, 0, 5000),
    logger: (o.logger as Logger | undefined) ?? silentLogger,
  });
}

export const isMemory = (file: string): boolean => file === ':memory:';
