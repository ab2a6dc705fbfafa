/**
 * A real cluster for the failover scenarios: coordinators, engines and gateways, each its own
 * process started from the cluster package's bin entries (`@gos/cluster`'s `MemberProcess`),
 * on 127.0.0.1 with ephemeral ports, under a fresh etcd key prefix, a fresh Redis key prefix
 * and a fresh MariaDB database, running the bench's game. Nothing here reaches into a package:
 * what the scenarios do to the cluster (read its status, SIGKILL a member) an operator could do.
 *
 * Each gateway puts the players it logs in into its own scene (`gateway.defaultSceneId`, which
 * has no environment override: every gateway gets a copy of the file with its scene), so N
 * gateways spread the players over N scenes.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { ENV_OVERRIDES, formatLogLine, loadConfig, MemberProcess, readStatus, Supervisor, type ClusterConfig, type ClusterStatus, type Role } from '@gos/cluster';
import { processTree } from '../proc.js';

const GAME_MODULE = fileURLToPath(new URL('../targets/project/game.js', import.meta.url));
const PROTOCOL_MODULE = fileURLToPath(new URL('../generated/protocol.js', import.meta.url));
/** Every database the bench makes starts with this (the test setup's `gos` user owns `gos_%`). */
export const DATABASE_PREFIX = 'gos_bench_failover';
/** How long a member may take to stop on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 15_000;

export interface BenchClusterOptions {
  /** etcd client URL. */
  readonly etcdUrl: string;
  /** Redis URL for the sessions (keys under a fresh prefix). */
  readonly redisUrl: string;
  /** A MariaDB/MySQL URL whose user may create and drop `gos_bench_failover_*` databases (its database part is ignored). */
  readonly mysqlUrl: string;
  /** @default 3 */
  readonly coordinators?: number;
  /** @default 2 */
  readonly engines?: number;
  /** One scene per gateway. @default 2 */
  readonly gateways?: number;
  readonly leaseTtlSeconds: number;
  readonly persistIntervalMs: number;
  /** Scenes per engine worker. @default 64 */
  readonly scenesPerWorker?: number;
  /** The scene type of the gateways' scenes (`<type>:1`, `<type>:2`, …). @default 'mmo' */
  readonly sceneType?: string;
  /** Pin every member to this CPU (taskset); null leaves them free. */
  readonly pinCpu: number | null;
  /** The leader's rebalancing (off: one thing measured at a time; scale-out turns it on). @default false */
  readonly rebalance?: boolean;
  /**
   * Engines run under the cluster package's supervisor, as `npm run cluster` runs them: one that
   * exits unasked (a drained engine exits 0) is started again (rolling-restart). @default false
   */
  readonly superviseEngines?: boolean;
}

const MEMBER_LOG = process.env['BENCH_MEMBER_LOG'] || undefined;

/** What a failed run shows: the last warnings and errors of the members. */
const RECENT_LINES = 60;

export class BenchCluster {
  readonly run = randomBytes(4).toString('hex');
  readonly prefix = `gos-bench-failover/${this.run}/`;
  readonly redisPrefix = `gos-bench-failover:${this.run}:`;
  readonly database = `${DATABASE_PREFIX}_${this.run}`;
  readonly members: MemberProcess[] = [];
  /** The scene each gateway's logins enter, in gateway order (`mmo:1`, `mmo:2`, …). */
  readonly scenes: readonly string[];
  /** Each gateway's HTTP origin once started, in gateway order. */
  readonly gatewayUrls: string[] = [];
  readonly #o: BenchClusterOptions;
  readonly #recent: string[] = [];
  #dir: string | null = null;
  #mainFile: string | null = null;
  #supervisor: Supervisor | null = null;
  #config: ClusterConfig | null = null;
  #dbCreated = false;
  #closed: Promise<void> | null = null;

  constructor(o: BenchClusterOptions) {
    this.#o = o;
    this.scenes = Array.from({ length: o.gateways ?? 2 }, (_, i) => `${o.sceneType ?? 'mmo'}:${i + 1}`);
  }

  /** The configuration the members share (what `readStatus` needs); set by {@link start}. */
  get config(): ClusterConfig {
    if (this.#config === null) throw new Error('cluster not started');
    return this.#config;
  }

  /**
   * Create the database, write the configuration, start the coordinators and engines, then the
   * gateways, and wait for a leader. On failure everything started is stopped again.
   */
  async start(): Promise<void> {
    const o = this.#o;
    try {
      this.#dir = await mkdtemp(path.join(tmpdir(), 'gos-bench-failover-'));
      const files = await writeConfigs(o, this.#dir, this.run);
      this.#mainFile = files.main;
      this.#config = loadConfig({ file: files.main, env: {} });
      await this.#createDatabase();
      const started = (role: Role, n: number, file: (i: number) => string): MemberProcess[] =>
        Array.from({ length: n }, (_, i) => this.#spawn(role, `${role}-${i + 1}`, file(i)));
      const coordinators = started('coordinator', o.coordinators ?? 3, () => files.main);
      const engines = Array.from({ length: o.engines ?? 2 }, (_, i) => this.#startEngine(`engine-${i + 1}`));
      await Promise.all([...coordinators.map((m) => m.ready), ...engines]);
      const gateways = started('gateway', this.scenes.length, (i) => files.gateways[i]!);
      for (const line of await Promise.all(gateways.map((m) => m.ready))) this.gatewayUrls.push(String(line['http']));
      const deadline = Date.now() + 30_000;
      while ((await this.status()).leader === null) {
        if (Date.now() > deadline) throw new Error('no coordinator leader elected within 30 s');
        await sleep(200);
      }
    } catch (err) {
      await this.close();
      throw new Error(`cluster did not start: ${(err as Error).message}\n${this.logs()}`, { cause: err });
    }
  }

  /** The last process started as member `id` (a supervised engine may have had several). */
  member(id: string): MemberProcess | undefined {
    return this.members.findLast((m) => m.id === id);
  }

  /** Start one more engine, `id`, on the cluster's configuration; resolves when it is ready. */
  async addEngine(id: string): Promise<void> {
    try {
      await this.#startEngine(id);
    } catch (err) {
      throw new Error(`engine ${id} did not start: ${(err as Error).message}\n${this.logs()}`, { cause: err });
    }
  }

  async #startEngine(id: string): Promise<void> {
    const file = this.#mainFile;
    if (file === null) throw new Error('cluster not started');
    if (this.#o.superviseEngines !== true) {
      await this.#spawn('engine', id, file).ready;
      return;
    }
    this.#supervisor ??= new Supervisor({
      report: (level, line) => {
        if (level === 'info') return;
        this.#recent.push(`supervisor: ${line}`);
        if (this.#recent.length > RECENT_LINES) this.#recent.shift();
      },
    });
    await this.#supervisor.add('engine', id, () => this.#spawn('engine', id, file)).firstReady;
  }

  /** The status as etcd holds it (the cluster package's status module). */
  status(): Promise<ClusterStatus> {
    return readStatus(this.config);
  }

  /** The last warnings and errors the members logged, one line each. */
  logs(): string {
    return this.#recent.join('\n');
  }

  /**
   * Stop every member (gateways, engines, coordinators; SIGTERM, SIGKILL after 15 s), SIGKILL
   * whatever is left of their process trees, then remove the cluster's etcd keys, Redis keys,
   * database and files. Idempotent; never throws.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close(true);
    return this.#closed;
  }

  /** {@link close} without the graceful stop: SIGKILL every member at once (an interrupted bench). */
  abort(): Promise<void> {
    this.#closed ??= this.#close(false);
    return this.#closed;
  }

  async #close(graceful: boolean): Promise<void> {
    // No engine is started again from here on (the supervisor's waiting restarts are cancelled
    // at once); it stops the engines it runs, and killLeftovers below ends any it has not yet.
    const supervised = this.#supervisor?.stop();
    if (graceful) await supervised;
    for (const role of graceful ? (['gateway', 'engine', 'coordinator'] as const) : []) {
      await Promise.all(this.members.filter((m) => m.role === role).map((m) => m.stop(STOP_TIMEOUT_MS).catch(() => {})));
    }
    // Only members still running: an exited one's pid may belong to another process by now.
    killLeftovers(this.members.filter((m) => m.running).map((m) => m.pid));
    await Promise.allSettled([deleteEtcdPrefix(this.#o.etcdUrl, this.prefix), this.#deleteRedisKeys(), this.#dropDatabase()]);
    if (this.#dir !== null) await rm(this.#dir, { recursive: true, force: true });
  }

  #spawn(role: Role, id: string, file: string): MemberProcess {
    const m = new MemberProcess({
      role,
      id,
      config: file,
      // The file says everything: a GOS_* variable in the caller's environment must not change it.
      env: Object.fromEntries(ENV_OVERRIDES.map((v) => [v.name, ''])),
      onLog: (line) => {
        // BENCH_MEMBER_LOG=FILE keeps every line of every member (diagnosing a run).
        if (MEMBER_LOG !== undefined) appendFileSync(MEMBER_LOG, `${JSON.stringify({ member: id, ...line })}\n`);
        if (line.level < 40) return;
        this.#recent.push(formatLogLine(id, line));
        if (this.#recent.length > RECENT_LINES) this.#recent.shift();
      },
    });
    this.members.push(m);
    if (this.#o.pinCpu !== null) pin(m.pid, this.#o.pinCpu);
    return m;
  }

  async #createDatabase(): Promise<void> {
    const conn = await mysql.createConnection({ uri: adminUri(this.#o.mysqlUrl), connectTimeout: 5000 });
    try {
      await conn.query(`CREATE DATABASE \`${this.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      this.#dbCreated = true;
    } finally {
      await conn.end();
    }
  }

  async #dropDatabase(): Promise<void> {
    if (!this.#dbCreated) return;
    const conn = await mysql.createConnection({ uri: adminUri(this.#o.mysqlUrl), connectTimeout: 5000 });
    try {
      await conn.query(`DROP DATABASE IF EXISTS \`${this.database}\``);
    } finally {
      await conn.end();
    }
  }

  async #deleteRedisKeys(): Promise<void> {
    const redis = new Redis(this.#o.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.redisPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}

/** The cluster's YAML: one file for coordinators and engines, one per gateway (its scene). */
async function writeConfigs(o: BenchClusterOptions, dir: string, run: string): Promise<{ main: string; gateways: string[] }> {
  const store = new URL(o.mysqlUrl);
  store.pathname = `/${DATABASE_PREFIX}_${run}`;
  const secret = `bench-failover-${run}-${randomBytes(12).toString('hex')}`;
  const base = (sceneId: string | null): string => `# Written by the bench (engine-kill, leader-kill, travel, migrate, engine-drain, rolling-restart, scale-out) for one run; removed at its end.
cluster: { secret: "${secret}" }
etcd: { hosts: [${JSON.stringify(o.etcdUrl)}], prefix: "gos-bench-failover/${run}/", leaseTtlSeconds: ${o.leaseTtlSeconds} }
store: { kind: mysql, url: ${JSON.stringify(store.href)}, autoMigrate: true }
sessions: { kind: redis, url: ${JSON.stringify(o.redisUrl)}, keyPrefix: "gos-bench-failover:${run}:" }
game: { module: ${JSON.stringify(GAME_MODULE)}, protocol: ${JSON.stringify(PROTOCOL_MODULE)} }
log: { level: info }
gateway: { host: 127.0.0.1, port: 0${sceneId === null ? '' : `, defaultSceneId: "${sceneId}"`} }
engine: { host: 127.0.0.1, port: 0, persistIntervalMs: ${o.persistIntervalMs}${o.scenesPerWorker === undefined ? '' : `, scenesPerWorker: ${o.scenesPerWorker}`} }
# One thing measured at a time: the leader moves scenes on its own (rebalancing) only in scale-out.
coordinator: { rebalance: { enabled: ${o.rebalance === true} } }
# The operator's credential: the migrate scenario moves scenes with it (npm run status -- migrate).
admin: { credentials: [{ name: bench, secret: "${secret}-admin", write: true }] }
`;
  const main = path.join(dir, 'cluster.yaml');
  await writeFile(main, base(null));
  const gateways: string[] = [];
  for (let i = 0; i < (o.gateways ?? 2); i++) {
    const file = path.join(dir, `gateway-${i + 1}.yaml`);
    await writeFile(file, base(`${o.sceneType ?? 'mmo'}:${i + 1}`));
    gateways.push(file);
  }
  return { main, gateways };
}

/** The URL without its database: the connection that creates and drops ours. */
function adminUri(mysqlUrl: string): string {
  const u = new URL(mysqlUrl);
  u.pathname = '';
  return u.href.replace(/\/$/, '');
}

/** Pin every thread of `pid` to `cpu`; threads it starts later inherit it. */
export function pin(pid: number, cpu: number): void {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
  } catch {
    // exited already: its ready promise says why
  }
}

/** SIGKILL every process still alive in the trees rooted at `pids`. */
export function killLeftovers(pids: readonly number[]): void {
  for (const p of processTree(pids)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Delete every key under `prefix` through etcd's JSON gateway (v3 API). */
export async function deleteEtcdPrefix(etcdUrl: string, prefix: string): Promise<void> {
  const key = Buffer.from(prefix);
  const end = Buffer.from(prefix);
  end[end.length - 1]! += 1;
  const res = await fetch(`${etcdUrl}/v3/kv/deleterange`, {
    method: 'POST',
    body: JSON.stringify({ key: key.toString('base64'), range_end: end.toString('base64') }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`etcd deleterange: HTTP ${res.status}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
