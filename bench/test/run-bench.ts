/**
 * The smoke tests' way of running the harness: the real command, as a child process, on the
 * test suite's services (scripts/test.sh exports their URLs as GOS_TEST_*).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../bin/bench.js', import.meta.url));

/**
 * Run `npm run bench -- <args> --out <temp>` (on the test suite's etcd, Redis and MariaDB when it
 * names them), assert it exits 0, hand the results folder and its stdout to `check`, then
 * remove the folder.
 */
export async function runBench(args: string[], check: (out: string, stdout: string) => Promise<void>): Promise<void> {
  const out = await mkdtemp(path.join(tmpdir(), 'gos-bench-smoke-'));
  try {
    const env = { ...process.env };
    if (process.env['GOS_TEST_ETCD_URL'] !== undefined) env['GOS_ETCD_URL'] = process.env['GOS_TEST_ETCD_URL'];
    if (process.env['GOS_TEST_REDIS_URL'] !== undefined) env['GOS_REDIS_URL'] = process.env['GOS_TEST_REDIS_URL'];
    if (process.env['GOS_TEST_MYSQL_URL'] !== undefined) env['GOS_MYSQL_URL'] = process.env['GOS_TEST_MYSQL_URL'];
    const child = spawn(process.execPath, [BENCH, ...args, '--out', out], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0, `bench failed:\n${stderr.slice(-3000)}`);
    await check(out, stdout);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

const ETCD = process.env['GOS_TEST_ETCD_URL'] ?? process.env['GOS_ETCD_URL'] ?? 'http://127.0.0.1:2379';
const REDIS = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MYSQL = process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';

/** Whether something listens at the URL's host and port. */
function listening(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: u.hostname, port: Number(u.port || defaultPort) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Why these tests cannot run here, or false. Services the test command named must be there: the bench then fails loudly. */
export async function missingServices(): Promise<string | false> {
  const missing: string[] = [];
  const etcdBinary = existsSync('/usr/bin/etcd') || existsSync('/usr/local/bin/etcd');
  if (process.env['GOS_TEST_ETCD_URL'] === undefined && !etcdBinary && !(await listening(ETCD, 2379))) missing.push(`etcd (${ETCD})`);
  if (process.env['GOS_TEST_REDIS_URL'] === undefined && !(await listening(REDIS, 6379))) missing.push(`Redis (${REDIS})`);
  if (process.env['GOS_TEST_MYSQL_URL'] === undefined && !(await listening(MYSQL, 3306))) missing.push(`MariaDB (${MYSQL})`);
  return missing.length === 0 ? false : `not reachable: ${missing.join(', ')}; run through npm test or set GOS_TEST_*`;
}
