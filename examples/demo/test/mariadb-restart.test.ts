/**
 * MariaDB killed and restarted under a running cluster of real processes: a private mariadbd
 * (its own data folder and port) is killed with SIGKILL while a player plays, and started again
 * (InnoDB recovers). Meanwhile the player keeps playing and every move is acknowledged; logins
 * are refused with a coded 503; no process crashes; once the database is back the engine's
 * queued writes land, so the last acknowledged position is on disk: nothing acknowledged is lost.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { promisify } from 'node:util';
import { guest, HttpError } from '@gos/client';
import { createStore, type Store } from '@gos/store';
import { waitFor } from '@gos/testing';
import { freePort, guestPlayer, testCluster } from './cluster-helpers.js';

const run = promisify(execFile);

const dir = await mkdtemp(path.join(tmpdir(), 'gos-mariadb-'));
const port = await freePort();
const datadir = path.join(dir, 'data');
const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
await run('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot]);
let server: ChildProcess | null = null;

async function startMariadb(): Promise<void> {
  const proc = spawn(
    'mariadbd',
    ['--no-defaults', `--datadir=${datadir}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${path.join(dir, 'sock')}`, `--log-error=${path.join(dir, 'error.log')}`, ...asRoot],
    { stdio: 'ignore' },
  );
  server = proc;
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`mariadbd exited with ${proc.exitCode}`);
      await run('mariadb', ['--protocol=tcp', '-h127.0.0.1', `-P${port}`, '-uroot', '-e', 'CREATE DATABASE IF NOT EXISTS gos']);
      return true;
    },
    { timeoutMs: 30_000, message: 'mariadbd to start', intervalMs: 100 },
  );
}

await startMariadb();
const mysqlUrl = `mysql://root@127.0.0.1:${port}/gos`;
const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 300, mysqlUrl });
let reader: Store | null = null;
after(async () => {
  await reader?.close();
  await cluster.cleanup();
  server?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

test('MariaDB killed and restarted under load: play goes on, writes are retried, nothing acknowledged is lost', { timeout: 120_000 }, async () => {
  const { baseUrl } = await cluster.startRoles({ engines: 1 });
  const { auth, client, api, closes } = await guestPlayer(baseUrl);
  await api.move({ seq: 1, x: 10, y: 10 });

  const killed = server!;
  killed.kill('SIGKILL');
  await new Promise((r) => killed.once('exit', r));
  // Play goes on, every move acknowledged, while the engine's saves fail and stay queued.
  let last = { ack: 0, x: 0, y: 0 };
  for (let i = 2; i <= 12; i++) {
    last = await api.move({ seq: i, x: 10 + i * 2, y: 10 });
    assert.equal(last.ack, i);
    // A duration, not a condition: the player keeps playing for about 2 s of outage, across
    // several of the engine's failed saves (every 300 ms).
    await setTimeout(150);
  }
  const refused = await guest(baseUrl).then(
    () => null,
    (err: unknown) => err,
  );
  assert.ok(refused instanceof HttpError, `login refused: ${String(refused)}`);
  assert.equal(refused.status, 503);
  assert.equal(refused.code, 'STO_ERR_CONNECTION');

  await startMariadb();
  reader = createStore({ kind: 'mysql', url: mysqlUrl });
  await reader.start();
  // The queued save lands with the engine's next retry (back-off at most 5 s).
  const position = (data: unknown): number[] => {
    const d = (data ?? {}) as { x?: number; y?: number };
    return [Math.fround(d.x ?? NaN), Math.fround(d.y ?? NaN)];
  };
  const store = reader;
  const saved = await waitFor(
    async () => {
      const row = await store.loadPlayer(auth.accountId);
      return position(row?.data)[0] === last.x ? row : undefined;
    },
    { timeoutMs: 30_000, message: 'the last acknowledged position on disk', intervalMs: 200 },
  );
  assert.deepEqual(position(saved.data), [last.x, last.y], 'the last acknowledged position is on disk');
  assert.deepEqual(closes, [], 'the player stayed connected');
  for (const m of cluster.members) assert.ok(m.running, `${m.id} is still running`);
  // And logins work again.
  const again = await guest(baseUrl);
  assert.ok(again.token.length > 0);
  await client.close();
});
