/**
 * The demo game as a cluster of real processes for tests: a YAML config on the test command's
 * etcd, Redis and MariaDB under fresh key prefixes, role processes started from the bin
 * entries, and a cleanup that stops them and removes what they left in etcd and Redis.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { waitFor } from '@gos/testing';
import { GameClient, guest, type LoginResult } from '@gos/client';
import { createApi, protocol, WhoAmIReqCodec, type WhoAmIReq } from '../src/generated/protocol.js';
import { ErrorCodes, type RouteDef } from '@gos/schema';
import { createStore, type Store } from '@gos/store';
import { BIN_ENTRY, formatLogLine, loadConfig, MemberProcess, readStatus, type ClusterConfig, type Role } from '@gos/cluster';

export const ETCD = process.env['GOS_TEST_ETCD_URL'] ?? 'http://127.0.0.1:2379';
const REDIS = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MYSQL = process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';
const DIST = fileURLToPath(new URL('../src/', import.meta.url));
export const BIN = { status: BIN_ENTRY.status, gateway: BIN_ENTRY.gateway };

export interface TestCluster {
  readonly dir: string;
  readonly configFile: string;
  readonly config: ClusterConfig;
  /** etcd key prefix of this cluster. */
  readonly prefix: string;
  readonly members: MemberProcess[];
  /** Start a role process; `env` adds variables (`GOS_*` overrides of the shared file). */
  start(role: Role, id: string, env?: Readonly<Record<string, string>>, o?: { viaMember?: boolean }): MemberProcess;
  /**
   * Start `coordinators` coordinators and `engines` engines (`<role>-1`, `<role>-2`, …), then,
   * once they are ready, gateway-1; resolve with its HTTP origin.
   */
  startRoles(o: { coordinators?: number; engines: number }): Promise<{ baseUrl: string; engines: MemberProcess[] }>;
  /** The last log lines of every process, for a failing test's message. */
  logs(): string;
  /** Stop every process and remove the cluster's etcd keys, Redis keys and files. */
  cleanup(): Promise<void>;
}

export async function testCluster(o: {
  leaseTtlSeconds: number;
  persistIntervalMs: number;
  etcdHosts?: readonly string[];
  redisUrl?: string;
  mysqlUrl?: string;
}): Promise<TestCluster> {
  const redisUrl = o.redisUrl ?? REDIS;
  const run = randomBytes(4).toString('hex');
  const prefix = `gos-proc-${run}/`;
  const redisPrefix = `gos-proc-${run}:`;
  const dir = await mkdtemp(path.join(tmpdir(), 'gos-cluster-'));
  const configFile = path.join(dir, 'cluster.yaml');
  await writeFile(
    configFile,
    `
cluster: { secret: "process-test-secret-${run}" }
etcd: { hosts: ${JSON.stringify(o.etcdHosts ?? [ETCD])}, prefix: "${prefix}", leaseTtlSeconds: ${o.leaseTtlSeconds} }
store: { kind: mysql, url: "${o.mysqlUrl ?? MYSQL}", autoMigrate: true }
sessions: { kind: redis, url: "${redisUrl}", keyPrefix: "${redisPrefix}" }
game: { module: "${path.join(DIST, 'game.js')}", protocol: "${path.join(DIST, 'generated/protocol.js')}" }
log: { level: info }
gateway: { port: 0, scryptCost: 1024 }
engine: { persistIntervalMs: ${o.persistIntervalMs} }
coordinator: { orphanGraceMs: 1000 }
admin: { credentials: [{ name: ops, secret: "process-test-admin-${run}", write: true }, { name: viewer, secret: "process-test-viewer-${run}" }] }
`,
  );
  const members: MemberProcess[] = [];
  const recent: string[] = [];
  const cluster: TestCluster = {
    dir,
    configFile,
    config: loadConfig({ file: configFile, env: {} }),
    prefix,
    members,
    start(role, id, env, o = {}) {
      const m = new MemberProcess({
        role,
        id,
        config: configFile,
        ...(env === undefined ? {} : { env }),
        ...(o.viaMember === true ? { viaMember: true } : {}),
        onLog: (line) => {
          recent.push(formatLogLine(id, line));
          if (recent.length > 300) recent.shift();
          // Errors and warnings of the processes end up in the test output.
          if (line.level >= 40) console.error(formatLogLine(id, line));
        },
      });
      members.push(m);
      return m;
    },
    async startRoles({ coordinators = 1, engines = 1 }) {
      const started = [
        ...Array.from({ length: coordinators }, (_, i) => cluster.start('coordinator', `coordinator-${i + 1}`)),
        ...Array.from({ length: engines }, (_, i) => cluster.start('engine', `engine-${i + 1}`)),
      ];
      await Promise.all(started.map((m) => m.ready));
      const gateway = cluster.start('gateway', 'gateway-1');
      return { baseUrl: String((await gateway.ready)['http']), engines: started.filter((m) => m.role === 'engine') };
    },
    logs: () => recent.join('\n'),
    async cleanup() {
      await Promise.all(members.map((m) => m.stop(10_000)));
      const etcd = new Etcd3({ hosts: [...(o.etcdHosts ?? [ETCD])] });
      // Bounded: a cleanup must not hold the test file open (a private etcd cluster that lost a
      // member may answer slowly under load; its data goes with its folder anyway).
      await Promise.race([etcd.delete().prefix(prefix).exec().catch(() => {}), new Promise((r) => setTimeout(r, 5000).unref())]);
      etcd.close();
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      try {
        const keys = await redis.keys(`${redisPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
      } catch {
        // a private Redis the test has stopped already
      }
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** A player connected with `auth` (no automatic reconnect), recording its closes and SceneResumed and SceneMoved pushes. */
export async function connectAs(auth: LoginResult) {
  const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket, reconnect: false });
  const closes: string[] = [];
  const resumed: Array<{ sceneId: string; reason: string; at: number }> = [];
  const moved: Array<{ sceneId: string; reason: string; at: number }> = [];
  client.on('close', (e) => closes.push(`${e.code} ${e.reason}`));
  client.on('SceneResumed', (p) => resumed.push({ ...p, at: Date.now() }));
  client.on('SceneMoved', (p) => moved.push({ ...p, at: Date.now() }));
  await client.connect();
  return { auth, client, api: createApi(client), closes, resumed, moved };
}

type Player = Awaited<ReturnType<typeof connectAs>>;

/** How a request sent during a failover ended, and when. */
export interface InFlightOutcomes {
  /** `a`'s move (not idempotent): its error code and `retryable`, or `ok`. */
  readonly move: { readonly code: string; readonly retryable: boolean | undefined; readonly at: number };
  /** `b`'s whoami (idempotent: the SDK sends it again after a retryable error). */
  readonly whoami: { readonly sceneId: string; readonly at: number };
}

/**
 * Send a move from `a` and a whoami from `b`, each with a 30 s timeout, and record how and
 * when each ends: for requests the engine receives and never answers (it is paused or dying).
 */
export async function inFlightRequests(a: Player, b: Player): Promise<{ answered: Promise<InFlightOutcomes> }> {
  const timeoutMs = 30_000;
  const move = a.api.move({ seq: 1000, x: 1, y: 1 }, { timeoutMs }).then(
    () => ({ code: 'ok', retryable: undefined, at: Date.now() }),
    (err: { code?: string; retryable?: boolean }) => ({ code: err.code ?? String(err), retryable: err.retryable, at: Date.now() }),
  );
  const whoami = b.api.whoami({}, { timeoutMs }).then((me) => ({ sceneId: me.sceneId, at: Date.now() }));
  // The gateway handles a socket's frames in order and answers an unknown route itself: once
  // that answer is back, the request before it has been forwarded to the engine.
  await Promise.all([gatewayBarrier(a), gatewayBarrier(b)]);
  return { answered: Promise.all([move, whoami]).then(([m, w]) => ({ move: m, whoami: w })) };
}

/** A route the demo does not have: the gateway refuses it (GW_ERR_UNKNOWN_ROUTE) without an engine. */
const NO_SUCH_ROUTE: RouteDef<WhoAmIReq, void> = Object.freeze({ id: 9999, name: 'noSuchRoute', scene: 'world', request: WhoAmIReqCodec, response: null, idempotent: false });

async function gatewayBarrier(p: Player): Promise<void> {
  await p.client.request(NO_SUCH_ROUTE, {}).then(
    () => assert.fail('the gateway accepted an unknown route'),
    (err: { code?: string }) => assert.equal(err.code, ErrorCodes.GW_ERR_UNKNOWN_ROUTE),
  );
}

/** A new guest, connected: see {@link connectAs}. */
export async function guestPlayer(baseUrl: string): ReturnType<typeof connectAs> {
  return connectAs(await guest(baseUrl));
}

/** A free TCP port on 127.0.0.1 (closed again before returning: for a server the test starts next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * The first of `count` consecutive free TCP ports on 127.0.0.1, below the kernel's ephemeral range
 * (32768 and up on Linux): a launcher that listens on them later (an autoscaled gateway) must not
 * find one taken meanwhile by an outgoing connection or a server listening on port 0, which the
 * kernel gives ephemeral ports.
 */
export async function freePorts(count: number): Promise<number> {
  const low = 20_000;
  const high = 32_000 - count;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = low + Math.floor(Math.random() * (high - low));
    let all = true;
    for (let k = 0; k < count && all; k++) all = await portFree(base + k);
    if (all) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/**
 * Run a node script; resolve with its exit code and output, and how long it ran. With
 * `killAfterMs`, a script still running then is killed (SIGKILL; `code` null, `killed` true).
 */
export function runNode(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  o: { killAfterMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number; killed: boolean }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = o.killAfterMs === undefined ? undefined : setTimeout(() => ((killed = true), child.kill('SIGKILL')), o.killAfterMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': the output is all read by then.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, killed });
    });
  });
}

/**
 * Wait until the engine hosting `sceneId` has published a load of at least `players`: the
 * coordinator leader places the next scene by the loads engines publish (at most every 250 ms,
 * later on a busy machine), so a test that wants its next scene on the other engine waits here.
 */
export async function loadPublished(config: ClusterConfig, sceneId: string, players: number): Promise<void> {
  await waitFor(
    async () => {
      const status = await readStatus(config);
      const host = status.placements.find((p) => p.sceneId === sceneId)?.engineId;
      return host !== undefined && (status.members.find((m) => m.id === host)?.load ?? 0) >= players;
    },
    { timeoutMs: 10_000, intervalMs: 100, message: `the engine of ${sceneId} publishing ${players} players` },
  );
}

/** The engine that hosts `sceneId`, as the cluster's placement says now; undefined when it is placed nowhere. */
export async function hostOf(config: ClusterConfig, sceneId: string): Promise<string | undefined> {
  return (await readStatus(config)).placements.find((p) => p.sceneId === sceneId)?.engineId;
}

/** A started store on the test database the processes write to, to read what they saved; the caller closes it. */
export async function testStore(): Promise<Store> {
  // Migrated here too: a process test run alone on a fresh database must not depend on an
  // earlier test having migrated it.
  const store = createStore({ kind: 'mysql', url: MYSQL, autoMigrate: true });
  await store.start();
  return store;
}
