#!/usr/bin/env node
/**
 * `npm start`: the whole cluster on embedded defaults, with the demo game and its web client.
 * Env: PORT (3000), HOST (127.0.0.1), DATA_DIR (./data), PERSIST_INTERVAL_MS (5000),
 * WORKERS (1), LOG_LEVEL (info), LOG_FORMAT (pretty on a terminal, else json); GOS_MYSQL_URL and
 * GOS_REDIS_URL switch from the embedded SQLite file and in-memory sessions to MySQL/MariaDB and
 * Redis, each reached as the cluster roles reach them: logged, retried with back-off for
 * GOS_CLUSTER_START_TIMEOUT_MS (30 s), then exit 1 with the coded error naming the URL
 * (../src/start-backends.ts); GOS_UWS_BUILD (auto) picks the uWebSockets.js build (docs/platforms.md);
 * GOS_GATEWAY_TLS_CERT_FILE and GOS_GATEWAY_TLS_KEY_FILE (GOS_GATEWAY_TLS_PASSPHRASE) serve https
 * and wss, reloaded on SIGHUP.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { chooseLogFormat, createProcessLogger, parseCommandLine, type LogFormat } from '@gos/cluster';
import { loadUws } from '@gos/gateway';
import { EmbeddedCluster } from '../src/cluster.js';
import { reachBackends, startTimeoutMs } from '../src/start-backends.js';

const USAGE = `usage: npm start   (node examples/demo/dist/bin/start.js)
The whole cluster in one process, with the demo game on http://HOST:PORT/. No options; environment:
  PORT                 HTTP and WebSocket port (3000)
  HOST                 address to listen on (127.0.0.1)
  DATA_DIR             where the SQLite file gos.db lives (./data)
  PERSIST_INTERVAL_MS  how often scenes and players are saved (5000)
  WORKERS              scene worker threads (1)
  LOG_LEVEL            trace, debug, info, warn, error or fatal (info)
  LOG_FORMAT           pretty (one coloured line per event) or json; default pretty on a terminal, else json
  GOS_MYSQL_URL        use this MySQL/MariaDB database instead of SQLite (migrations applied on start)
  GOS_REDIS_URL        keep sessions in this Redis instead of in memory
  GOS_CLUSTER_START_TIMEOUT_MS
                       how long MySQL and Redis (each) are retried at start before it exits 1 (30000)
  GOS_UWS_BUILD        auto, v20.30 or v20.57: the uWebSockets.js build (auto; docs/platforms.md)
Ctrl-C (SIGINT) or SIGTERM stops it gracefully.`;

const { fail } = parseCommandLine({ name: 'start', usage: USAGE }, {});

const isTTY = process.stdout.isTTY === true;
const logFormat = ((): LogFormat => {
  try {
    return chooseLogFormat({ isTTY, logFormat: process.env.LOG_FORMAT });
  } catch (err) {
    return fail((err as Error).message);
  }
})();
const timeoutMs = ((): number => {
  try {
    return startTimeoutMs(process.env);
  } catch (err) {
    return fail((err as Error).message);
  }
})();
const logger = createProcessLogger({ level: process.env.LOG_LEVEL ?? 'info', format: logFormat, colorize: isTTY });
const port = Number(process.env.PORT ?? 3000);
const dataDir = resolve(process.env.DATA_DIR ?? 'data');
const certFile = process.env.GOS_GATEWAY_TLS_CERT_FILE;
const keyFile = process.env.GOS_GATEWAY_TLS_KEY_FILE;
const passphrase = process.env.GOS_GATEWAY_TLS_PASSPHRASE;
if (!certFile !== !keyFile) {
  process.stderr.write('GOS_GATEWAY_TLS_CERT_FILE and GOS_GATEWAY_TLS_KEY_FILE go together (https needs both)\n');
  process.exit(2);
}
// The operator's REPL (npm run repl -- --embedded): a credential made for this run, written with
// the engine's address to DATA_DIR/repl.json (readable by this user only) once it is up.
const admin = [{ name: 'local', secret: randomBytes(24).toString('base64url'), write: true }];
const replFile = resolve(dataDir, 'repl.json');
// Every role's metrics and the process's (CPU, memory, event-loop delay), at GET /metrics.
const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'gos_' });
// Empty counts as unset.
const mysqlUrl = process.env.GOS_MYSQL_URL === '' ? undefined : process.env.GOS_MYSQL_URL;
const redisUrl = process.env.GOS_REDIS_URL === '' ? undefined : process.env.GOS_REDIS_URL;
const cluster = new EmbeddedCluster({
  port,
  host: process.env.HOST ?? '127.0.0.1',
  dbFile: resolve(dataDir, 'gos.db'),
  persistIntervalMs: Number(process.env.PERSIST_INTERVAL_MS ?? 5000),
  workers: Number(process.env.WORKERS ?? 1),
  ...(mysqlUrl === undefined ? {} : { mysqlUrl }),
  ...(redisUrl === undefined ? {} : { redisUrl }),
  ...(certFile && keyFile ? { tls: { certFile: resolve(certFile), keyFile: resolve(keyFile), ...(passphrase ? { passphrase } : {}) } } : {}),
  logger,
  metrics,
  admin,
});

let stopping = false;
/** Aborted by a signal that comes while MySQL or Redis is still being reached. */
const connecting = new AbortController();
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  connecting.abort(new Error(`${signal} while starting`));
  logger.info({ signal }, 'shutting down: draining players and flushing data');
  const force = setTimeout(() => {
    logger.error('shutdown took longer than 15 s; exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  try {
    rmSync(replFile, { force: true });
    await cluster.close();
    logger.info('bye');
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
// The gateway loads its certificate again (and logs the outcome; a bad one keeps the old).
process.on('SIGHUP', () => void cluster.gateway.reloadTls().catch(() => {}));

/** Start everything; false when a signal came first (shutdown() stops and exits). */
async function start(): Promise<boolean> {
  try {
    loadUws({ build: process.env.GOS_UWS_BUILD });
    await reachBackends({ mysqlUrl, redisUrl, timeoutMs, logger, signal: connecting.signal });
    await cluster.start();
    return !stopping;
  } catch (err) {
    if (stopping) return false;
    const code = typeof (err as { code?: unknown }).code === 'string' ? `${(err as { code: string }).code}: ` : '';
    logger.fatal({ err }, `cannot start: ${code}${(err as Error).message}`);
    await cluster.close().catch(() => {});
    process.exit(1);
  }
}
// Stopped by a signal while starting: shutdown() exits.
if (await start()) {
  mkdirSync(dataDir, { recursive: true });
  // Written whole (a temp file renamed over it) and readable by this user only, whatever was there.
  writeFileSync(`${replFile}.tmp`, `${JSON.stringify({ address: cluster.engine.address, engineId: cluster.engine.id, clusterSecret: cluster.clusterSecret, credentials: admin })}\n`, { mode: 0o600 });
  chmodSync(`${replFile}.tmp`, 0o600);
  renameSync(`${replFile}.tmp`, replFile);
  logger.info({ url: cluster.url, data: dataDir, repl: 'npm run repl -- --embedded' }, 'cluster ready');
  // The pretty format writes from a worker thread: let the log lines go first.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.stdout.write(`\n  GOS-TS demo ready: open ${cluster.url}/ in a browser\n\n`);
}
