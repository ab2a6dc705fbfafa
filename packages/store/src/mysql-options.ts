import { silentLogger, type Logger } from '@gos/schema';
import { checkObject, invalid, optionalBool, optionalInt } from './common.js';
import type { MysqlStoreOptions } from './types.js';

export interface ResolvedMysqlOptions {
  readonly url: string;
  /** `host:port/database`, for logs and messages: never the password. */
  readonly target: string;
  readonly database: string;
  readonly poolSize: number;
  readonly maxQueuedRequests: number;
  readonly autoMigrate: boolean;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

const MYSQL_OPTION_KEYS = new Set(['url', 'poolSize', 'maxQueuedRequests', 'autoMigrate', 'connectTimeoutMs', 'logger']);

/** Validate `MysqlStoreOptions` once, merge the defaults and freeze. @throws OPT_ERR_INVALID */
export function resolveMysqlOptions(options: MysqlStoreOptions): ResolvedMysqlOptions {
  const o = checkObject('MysqlStore options', options);
  for (const key of Object.keys(o)) if (!MYSQL_OPTION_KEYS.has(key)) throw invalid(`MysqlStore options.${key} is not an option`);
  const bad = invalid('MysqlStore options.url must look like mysql://user:password@host:3306/database');
  if (typeof o.url !== 'string') throw bad;
  let parsed: URL;
  try {
    parsed = new URL(o.url);
  } catch {
    throw bad;
  }
  const database = decodeURIComponent(parsed.pathname.slice(1));
  if (parsed.protocol !== 'mysql:' || parsed.hostname === '' || database === '' || database.includes('/')) throw bad;
  return Object.freeze({
    url: o.url,
    target: `${parsed.hostname}:${parsed.port === '' ? '3306' : parsed.port}/${database}`,
    database,
    poolSize: optionalInt('MysqlStore options.poolSize', o.poolSize, 1, 10),
    maxQueuedRequests: optionalInt('MysqlStore options.maxQueuedRequests', o.maxQueuedRequests, 1, 10_000),
    autoMigrate: optionalBool('MysqlStore options.autoMigrate', o.autoMigrate, false),
    connectTimeoutMs: optionalInt('MysqlStore options.connectTimeoutMs', o.connectTimeoutMs, 1, 10_000),
    logger: (o.logger as Logger | undefined) ?? silentLogger,
  });
}
