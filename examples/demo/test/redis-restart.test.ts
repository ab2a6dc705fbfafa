/**
 * Redis restarted under a running cluster of real processes: a private redis-server (append-only
 * file, fsync always, as a production Redis holding sessions should run) is killed with SIGKILL
 * and started again. Meanwhile connected players keep playing, logins are refused with a coded
 * 503 instead of failing or hanging, no process crashes; afterwards logins work again and the
 * sessions issued before the restart are still valid.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { guest, HttpError } from '@gos/client';
import { waitFor } from '@gos/testing';
import { connectAs, freePort, guestPlayer, testCluster } from './cluster-helpers.js';

const dir = await mkdtemp(path.join(tmpdir(), 'gos-redis-'));
const port = await freePort();
let redis: ChildProcess | null = null;

/** Start the private Redis on the same port and folder: its append-only file brings the data back. */
async function startRedis(): Promise<void> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], {
    stdio: 'ignore',
  });
  redis = proc;
  // Up once its port is taken (a listen there fails).
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
      return new Promise<boolean>((resolve) => {
        const s = createServer().listen(port, '127.0.0.1');
        s.once('listening', () => s.close(() => resolve(false)));
        s.once('error', () => resolve(true));
      });
    },
    { timeoutMs: 10_000, message: 'redis-server to start', intervalMs: 50 },
  );
}

await startRedis();
const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500, redisUrl: `redis://127.0.0.1:${port}` });
after(async () => {
  await cluster.cleanup();
  redis?.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

test('Redis killed and restarted under load: players keep playing, logins get a coded 503, sessions survive', { timeout: 120_000 }, async () => {
  const { baseUrl } = await cluster.startRoles({ engines: 1 });
  const a = await guestPlayer(baseUrl);
  const authA = a.auth;
  await a.api.move({ seq: 1, x: 5, y: 5 });

  const killed = redis!;
  killed.kill('SIGKILL');
  await new Promise((r) => killed.once('exit', r));
  // The game goes on: the data path does not touch Redis.
  for (let i = 2; i <= 11; i++) assert.equal((await a.api.move({ seq: i, x: 5 + i, y: 5 })).ack, i);
  // A login needs a session: refused with a coded, retryable answer.
  const refused = await guest(baseUrl).then(
    () => null,
    (err: unknown) => err,
  );
  assert.ok(refused instanceof HttpError, `login refused: ${String(refused)}`);
  assert.equal(refused.status, 503);
  assert.equal(refused.code, 'GW_ERR_SESSION_STORE');

  await startRedis();
  // Logins work again once the gateway's connection is back.
  const authB = await waitFor(() => guest(baseUrl), { timeoutMs: 20_000, message: 'logins to work after the restart', intervalMs: 200 });
  const b = await connectAs(authB);
  await b.api.move({ seq: 1, x: 9, y: 9 });
  // The session issued before the restart is still valid: a new connection with it is accepted.
  await a.client.close();
  const again = await connectAs(authA);
  assert.equal((await again.api.whoami({})).playerId, authA.accountId);
  for (const m of cluster.members) assert.ok(m.running, `${m.id} is still running`);
  await Promise.all([again.client.close(), b.client.close()]);
});
