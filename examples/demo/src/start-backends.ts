/**
 * `npm start` on the production backends (GOS_MYSQL_URL, GOS_REDIS_URL) reaches them the way the
 * cluster roles do ({@link connect}, docs/cluster.md): it logs where it connects (password
 * masked), retries with back-off until the start timeout (`GOS_CLUSTER_START_TIMEOUT_MS`, 30 s
 * by default, as `cluster.startTimeoutMs`), then fails with `STO_ERR_CONNECTION` (MySQL) or
 * `GW_ERR_SESSION_STORE` (Redis) naming the URL. Each backend is reached with a client of its
 * own, closed again once it has started; the embedded cluster then opens its own at once.
 */
import { connect } from '@gos/cluster';
import { RedisSessionStore, type SessionStore } from '@gos/gateway';
import { ErrorCodes, type Logger } from '@gos/schema';
import { createStore } from '@gos/store';

/** The variable and default of the cluster roles' start timeout (`cluster.startTimeoutMs`). */
export const START_TIMEOUT_VARIABLE = 'GOS_CLUSTER_START_TIMEOUT_MS';
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/**
 * The start timeout from `env` ({@link START_TIMEOUT_VARIABLE}, else 30 s).
 * @throws Error naming the variable when its value is not a whole number of milliseconds ≥ 1
 */
export function startTimeoutMs(env: NodeJS.ProcessEnv): number {
  const raw = env[START_TIMEOUT_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_START_TIMEOUT_MS;
  const ms = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1) throw new Error(`${START_TIMEOUT_VARIABLE} must be a whole number of milliseconds ≥ 1, got "${raw}"`);
  return ms;
}

export interface ReachBackendsOptions {
  /** MySQL/MariaDB (migrations applied, as the embedded cluster's store does). */
  readonly mysqlUrl?: string | undefined;
  /** Redis for the sessions. */
  readonly redisUrl?: string | undefined;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Aborted by a SIGINT or SIGTERM while connecting. */
  readonly signal?: AbortSignal;
}

/**
 * Reach MySQL, then Redis (those given), each within `timeoutMs`.
 * @throws CodedError `STO_ERR_CONNECTION` / `GW_ERR_SESSION_STORE` naming the URL (password
 *   masked) when one does not answer in time; any other failure of the backend at once (a
 *   migration that fails: `STO_ERR_MIGRATION`); the abort reason when `signal` is aborted.
 */
export async function reachBackends(o: ReachBackendsOptions): Promise<void> {
  const backend = { timeoutMs: o.timeoutMs, logger: o.logger, ...(o.signal === undefined ? {} : { signal: o.signal }) };
  const mysqlUrl = o.mysqlUrl;
  if (mysqlUrl !== undefined) {
    const storeLogger = o.logger.child({ role: 'store' });
    const store = await connect({
      ...backend,
      what: 'MySQL',
      urls: [mysqlUrl],
      code: ErrorCodes.STO_ERR_CONNECTION,
      open: () => createStore({ kind: 'mysql', url: mysqlUrl, autoMigrate: true, logger: storeLogger }),
    });
    await store.close();
  }
  const redisUrl = o.redisUrl;
  if (redisUrl !== undefined) {
    const sessions = await connect<SessionStore>({
      ...backend,
      what: 'Redis',
      urls: [redisUrl],
      code: ErrorCodes.GW_ERR_SESSION_STORE,
      open: () => new RedisSessionStore({ url: redisUrl, logger: o.logger }),
    });
    await sessions.close();
  }
}
