/**
 * A wrong or unreachable etcd, MySQL or Redis URL no longer hangs a role for ever in silence:
 * each role process logs where it connects, retries for `cluster.startTimeoutMs`, then exits 1
 * with the backend's code naming the URL (password masked). A failure that is not about reaching
 * the backend (a schema behind) is not retried. `npm start` (examples/demo/bin/start.js) does the
 * same for GOS_MYSQL_URL and GOS_REDIS_URL, with the same variable and default.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import mysql from 'mysql2/promise';
import { BIN_ENTRY, type LogLine, type Role } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { DEFAULT_START_TIMEOUT_MS } from '../src/start-backends.js';
import { freePort, runNode, testCluster } from './cluster-helpers.js';

const START_TIMEOUT_MS = 1500;
/** The timeout plus a process's own start-up (loading modules) on a busy machine. */
const BOUND_MS = START_TIMEOUT_MS + 6000;

const cluster = await testCluster({ leaseTtlSeconds: 3, persistIntervalMs: 1000 });
after(() => cluster.cleanup());

interface Outcome {
  readonly code: number | null;
  readonly ms: number;
  readonly lines: readonly LogLine[];
  readonly output: string;
}

const jsonLines = (stdout: string): LogLine[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

async function run(role: Role, env: Record<string, string>, configFile = cluster.configFile): Promise<Outcome> {
  const r = await runNode([BIN_ENTRY[role], '--config', configFile, '--id', `${role}-1`], { ...process.env, GOS_CLUSTER_START_TIMEOUT_MS: String(START_TIMEOUT_MS), ...env }, { killAfterMs: 30_000 });
  const lines = jsonLines(r.stdout);
  assert.equal(r.killed, false, `${role} still running after 30 s:\n${r.stdout}${r.stderr}`);
  return { code: r.code, ms: r.ms, lines, output: r.stdout + r.stderr };
}

function assertGaveUp(o: Outcome, what: string, url: string, code: string): void {
  assert.equal(o.code, 1, o.output);
  assert.ok(o.ms < BOUND_MS, `exited after ${o.ms} ms`);
  assert.ok(o.lines.some((l) => l.msg === `connecting to ${what} at ${url}`), `logs where it connects\n${o.output}`);
  const fatal = o.lines.find((l) => l.level === 60);
  assert.ok(fatal?.msg.startsWith(`cannot start: ${code}: cannot reach ${what} at ${url}: `), `fatal line: ${fatal?.msg}`);
}

for (const role of ['coordinator', 'engine', 'gateway'] as const) {
  test(`${role}: etcd refusing connections → exit 1 within the start timeout, CRD_ERR_UNAVAILABLE naming the URL`, { timeout: 60_000 }, async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const o = await run(role, { GOS_ETCD_HOSTS: url });
    assertGaveUp(o, 'etcd', url, 'CRD_ERR_UNAVAILABLE');
    assert.ok(o.lines.some((l) => l.level === 40 && l.msg.startsWith(`cannot reach etcd at ${url} (`) && l.msg.endsWith('retrying in 250 ms')), 'each retry is logged');
  });
}

test('coordinator: etcd that accepts connections and never answers → exit 1 at the start timeout ("no answer")', { timeout: 60_000 }, async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  try {
    const o = await run('coordinator', { GOS_ETCD_HOSTS: url });
    assertGaveUp(o, 'etcd', url, 'CRD_ERR_UNAVAILABLE');
    assert.match(o.lines.find((l) => l.level === 60)!.msg, /: no answer \(1 attempt in 1\.5 s; start timeout 1\.5 s\)$/);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('gateway: Redis unreachable → exit 1, GW_ERR_SESSION_STORE naming the URL with its password masked', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const o = await run('gateway', { GOS_REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}` });
  assertGaveUp(o, 'Redis', `redis://:***@127.0.0.1:${port}`, 'GW_ERR_SESSION_STORE');
  assert.doesNotMatch(o.output, /hunter2/);
});

for (const role of ['engine', 'gateway'] as const) {
  test(`${role}: MySQL unreachable → exit 1, STO_ERR_CONNECTION naming the URL with its password masked`, { timeout: 60_000 }, async () => {
    const port = await freePort();
    const o = await run(role, { GOS_MYSQL_URL: `mysql://gos:hunter2-secret@127.0.0.1:${port}/gos` });
    assertGaveUp(o, 'MySQL', `mysql://gos:***@127.0.0.1:${port}/gos`, 'STO_ERR_CONNECTION');
    assert.doesNotMatch(o.output, /hunter2/);
  });
}

test('engine: a database whose schema is behind is not retried: exit 1 at once with STO_ERR_MIGRATION', { timeout: 60_000 }, async () => {
  const base = new URL(process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test');
  const database = `gos_behind_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) });
  await admin.query(`CREATE DATABASE \`${database}\``);
  try {
    const url = new URL(base.href);
    url.pathname = `/${database}`;
    // autoMigrate off: the empty database is behind, which waiting cannot change.
    const file = path.join(cluster.dir, 'no-migrate.yaml');
    await writeFile(file, (await readFile(cluster.configFile, 'utf8')).replace('autoMigrate: true', 'autoMigrate: false'));
    const o = await run('engine', { GOS_MYSQL_URL: url.href, GOS_CLUSTER_START_TIMEOUT_MS: '30000' }, file);
    assert.equal(o.code, 1, o.output);
    assert.match(o.lines.find((l) => l.level === 60)?.msg ?? '', /^cannot start: STO_ERR_MIGRATION: /);
    assert.equal(o.lines.filter((l) => l.msg.startsWith('cannot reach MySQL')).length, 0, 'no retry');
    assert.ok(o.ms < 15_000, `exited after ${o.ms} ms, not at the 30 s start timeout`);
  } finally {
    await admin.query(`DROP DATABASE \`${database}\``);
    await admin.end();
  }
});

// ---- npm start -------------------------------------------------------------------------------
const START = fileURLToPath(new URL('../bin/start.js', import.meta.url));
/** npm start's environment: a free port, a scratch data folder, no backend or timeout of the test run's own. */
function startEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GOS_MYSQL_URL|GOS_REDIS_URL|GOS_CLUSTER_START_TIMEOUT_MS|PORT|DATA_DIR|LOG_.*)$/.test(k)));
  return { ...base, PORT: '0', DATA_DIR: path.join(cluster.dir, 'start-data'), LOG_LEVEL: 'info', ...env };
}

async function runStart(env: Record<string, string>): Promise<Outcome> {
  const r = await runNode([START], startEnv({ GOS_CLUSTER_START_TIMEOUT_MS: String(START_TIMEOUT_MS), ...env }), { killAfterMs: 30_000 });
  assert.equal(r.killed, false, `npm start still running after 30 s:\n${r.stdout}${r.stderr}`);
  return { code: r.code, ms: r.ms, lines: jsonLines(r.stdout), output: r.stdout + r.stderr };
}

/** npm start in the background, its log lines read as they come. */
function spawnStart(env: Record<string, string>): { lines: () => LogLine[]; output: () => string; kill: (signal: NodeJS.Signals) => void; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [START], { env: startEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  after(() => void child.kill('SIGKILL'));
  return { lines: () => jsonLines(stdout), output: () => stdout + stderr, kill: (signal) => void child.kill(signal), exited };
}

test('npm start: the start timeout is the cluster roles’ (GOS_CLUSTER_START_TIMEOUT_MS, same default)', () => {
  assert.equal(DEFAULT_START_TIMEOUT_MS, cluster.config.cluster.startTimeoutMs);
});

test('npm start: MySQL unreachable → logs where, retries, exit 1 within the start timeout with STO_ERR_CONNECTION naming the URL, password masked', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const o = await runStart({ GOS_MYSQL_URL: `mysql://gos:hunter2-secret@127.0.0.1:${port}/gos` });
  const url = `mysql://gos:***@127.0.0.1:${port}/gos`;
  assertGaveUp(o, 'MySQL', url, 'STO_ERR_CONNECTION');
  assert.ok(o.lines.some((l) => l.level === 40 && l.msg.startsWith(`cannot reach MySQL at ${url} (`) && l.msg.endsWith('retrying in 250 ms')), `each retry is logged\n${o.output}`);
  assert.equal(o.lines.find((l) => l.msg.startsWith('connecting to MySQL'))?.['startTimeoutMs'], START_TIMEOUT_MS);
  assert.doesNotMatch(o.output, /hunter2/);
});

test('npm start: Redis unreachable → exit 1 within the start timeout with GW_ERR_SESSION_STORE naming the URL, password masked', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const o = await runStart({ GOS_REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${port}` });
  const url = `redis://:***@127.0.0.1:${port}`;
  assertGaveUp(o, 'Redis', url, 'GW_ERR_SESSION_STORE');
  assert.ok(o.lines.some((l) => l.level === 40 && l.msg.startsWith(`cannot reach Redis at ${url} (`)), `each retry is logged\n${o.output}`);
  assert.doesNotMatch(o.output, /hunter2/);
});

test('npm start: reachable MySQL and Redis are logged (password masked) with the 30 s default, then it serves; SIGTERM exits 0', { timeout: 60_000 }, async () => {
  const mysqlUrl = new URL(process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test');
  const redisUrl = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const s = spawnStart({ GOS_MYSQL_URL: mysqlUrl.href, GOS_REDIS_URL: redisUrl });
  const ready = await waitFor(() => s.lines().find((l) => l.msg === 'cluster ready'), { timeoutMs: 30_000, message: 'npm start ready' });
  const masked = new URL(mysqlUrl.href);
  masked.password = '***';
  const connecting = s.lines().filter((l) => l.msg.startsWith('connecting to '));
  assert.deepEqual(
    connecting.map((l) => [l.msg, l['startTimeoutMs']]),
    [
      [`connecting to MySQL at ${masked.href}`, 30_000],
      [`connecting to Redis at ${redisUrl}`, 30_000],
    ],
  );
  assert.equal((await fetch(`${String(ready['url'])}/healthz`)).status, 200);
  s.kill('SIGTERM');
  assert.equal(await s.exited, 0, s.output());
  if (mysqlUrl.password !== '') assert.ok(!s.output().includes(`:${mysqlUrl.password}@`), 'the password is not logged');
});

test('npm start: SIGTERM while it retries MySQL stops it at once (exit 0), without waiting for the start timeout', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const started = Date.now();
  const s = spawnStart({ GOS_MYSQL_URL: `mysql://gos:gos@127.0.0.1:${port}/gos`, GOS_CLUSTER_START_TIMEOUT_MS: '60000' });
  await waitFor(() => s.lines().some((l) => l.msg.startsWith('cannot reach MySQL at ')), { timeoutMs: 20_000, message: 'a first refused attempt' });
  s.kill('SIGTERM');
  assert.equal(await s.exited, 0, s.output());
  assert.ok(Date.now() - started < 20_000, 'stopped long before the 60 s start timeout');
  assert.equal(s.lines().filter((l) => l.level === 60).length, 0, `no fatal line\n${s.output()}`);
});

test('npm start: a GOS_CLUSTER_START_TIMEOUT_MS that is not a number of milliseconds → one line, exit 2', async () => {
  const r = await runNode([START], startEnv({ GOS_CLUSTER_START_TIMEOUT_MS: 'soon' }), { killAfterMs: 20_000 });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'start: GOS_CLUSTER_START_TIMEOUT_MS must be a whole number of milliseconds ≥ 1, got "soon" (see --help)\n');
});
