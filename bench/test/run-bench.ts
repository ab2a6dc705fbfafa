/**
 * The smoke tests' way of running the harness: the real command, as a child process, on the
 * test suite's services (scripts/test.sh exports their URLs as GOS_TEST_*).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
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
