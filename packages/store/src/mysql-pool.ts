import mysql from 'mysql2/promise';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { ResolvedMysqlOptions } from './mysql-options.js';

export type Queryable = Pool | PoolConnection;

export const ER_DUP_ENTRY = 1062;

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_HOST_IS_BLOCKED',
  'ER_HOST_NOT_PRIVILEGED',
]);
// mysql2 raises these without a code.
const POOL_MESSAGES = new Set(['Pool is closed.', 'Queue limit reached.']);

export interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  message?: unknown;
}

export const errnoOf = (err: unknown): unknown => (err as DriverError | null)?.errno;

/** Errors that mean the server or the pool is unreachable become STO_ERR_CONNECTION; the rest pass through. */
export function mapMysqlError(err: unknown, target: string): unknown {
  if (err instanceof CodedError) return err;
  const e = (err ?? {}) as DriverError;
  if (e.fatal === true || (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) || (typeof e.message === 'string' && POOL_MESSAGES.has(e.message))) {
    const detail = typeof e.message === 'string' && e.message !== '' ? e.message : String(e.code ?? err);
    return new CodedError(ErrorCodes.STO_ERR_CONNECTION, `mysql ${target}: ${detail}`, { cause: err });
  }
  return err;
}

/** Create the pool; connections open lazily. */
export function openPool(o: ResolvedMysqlOptions): Pool {
  return mysql.createPool({
    uri: o.url,
    connectionLimit: o.poolSize,
    maxIdle: o.poolSize,
    queueLimit: o.maxQueuedRequests,
    waitForConnections: true,
    connectTimeout: o.connectTimeoutMs,
    enableKeepAlive: true,
    charset: 'utf8mb4',
    // Versions and timestamps are safe integers; keep them numbers.
    supportBigNumbers: true,
    bigNumberStrings: false,
    multipleStatements: false,
  });
}

/** Connections {@link ping} opens at start (fewer when the pool is smaller). */
export const WARM_CONNECTIONS = 4;

/**
 * Open a few connections and ping each (the pool itself opens nothing): the store is known to
 * be reachable, and the first burst of work (a scene moving in, the claims of its players) does
 * not pay for connecting and authenticating. @throws STO_ERR_CONNECTION
 */
export async function ping(pool: Pool, target: string, connections: number): Promise<void> {
  const opened = await Promise.allSettled(Array.from({ length: Math.max(1, connections) }, () => pool.getConnection()));
  const conns = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      const err: unknown = failed.reason;
      const message = err instanceof Error && err.message !== '' ? err.message : String((err as DriverError).code ?? err);
      throw new CodedError(ErrorCodes.STO_ERR_CONNECTION, `cannot connect to mysql ${target}: ${message}`, { cause: err });
    }
    await Promise.all(conns.map((c) => c.ping()));
  } finally {
    for (const c of conns) c.release();
  }
}
