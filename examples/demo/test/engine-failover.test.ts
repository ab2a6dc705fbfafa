/**
 * Engine failover with real processes on real etcd, Redis and MariaDB: the engine hosting the
 * players' scene is killed with SIGKILL; the players stay connected to their gateway, get a
 * SceneResumed push once the scene runs on the other engine (reloaded from its last save), and
 * keep playing.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { ErrorCodes } from '@gos/schema';
import { createStore } from '@gos/store';
import { waitFor } from '@gos/testing';
import { guestPlayer, inFlightRequests, testCluster } from './cluster-helpers.js';

const LEASE_TTL_SECONDS = 2;
const PERSIST_INTERVAL_MS = 500;
const MYSQL = process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';
const cluster = await testCluster({ leaseTtlSeconds: LEASE_TTL_SECONDS, persistIntervalMs: PERSIST_INTERVAL_MS });
const store = createStore({ kind: 'mysql', url: MYSQL });
await store.start();
after(async () => {
  await store.close();
  await cluster.cleanup();
});

test('engine killed with SIGKILL: players stay connected, the scene resumes on the other engine from its last save', { timeout: 120_000 }, async () => {
  const { baseUrl, engines } = await cluster.startRoles({ engines: 2 });
  const players = await Promise.all([guestPlayer(baseUrl), guestPlayer(baseUrl)]);
  const [a, b] = players;
  const before = await a.api.move({ seq: 1, x: 40, y: 30 });
  // Past the periodic save: this position is on disk when the engine dies. (The wire carries
  // float32: the saved float64 position is compared at that precision.)
  await waitFor(
    async () => {
      const d = ((await store.loadPlayer(a.auth.accountId))?.data ?? {}) as { x?: number; y?: number };
      return Math.fround(d.x ?? NaN) === before.x && Math.fround(d.y ?? NaN) === before.y;
    },
    { timeoutMs: 10_000, message: "a periodic save of player a's move", intervalMs: 50 },
  );
  const host = (await readStatus(cluster.config)).placements.find((p) => p.sceneId === 'world:1');
  assert.ok(host !== undefined, 'world:1 is placed');
  const victim = engines.find((e) => e.id === host.engineId)!;
  const survivor = engines.find((e) => e !== victim)!;

  // Requests in flight when the engine dies: paused first, so that it cannot answer them.
  victim.signal('SIGSTOP');
  const inFlight = (await inFlightRequests(b, a)).answered;
  const killedAt = Date.now();
  victim.signal('SIGKILL');
  await waitFor(
    () => {
      if (a.resumed.length === 0 || b.resumed.length === 0) throw new Error(`closes of a: ${a.closes.join('; ')}; of b: ${b.closes.join('; ')}`);
      return true;
    },
    { timeoutMs: (LEASE_TTL_SECONDS + 20) * 1000, message: 'both players to get SceneResumed' },
  );
  assert.equal(a.resumed.length, 1, `player a got SceneResumed (closes: ${a.closes.join('; ')})`);
  assert.equal(b.resumed.length, 1, 'player b got SceneResumed');
  const resumedAt = Math.max(a.resumed[0]!.at, b.resumed[0]!.at);
  const recoveryMs = resumedAt - killedAt;
  console.log(`engine ${victim.id} killed; players resumed on ${survivor.id} ${recoveryMs} ms later (lease TTL ${LEASE_TTL_SECONDS} s)`);
  const answered = await inFlight;
  console.log(`in-flight requests: move refused ${answered.move.at - killedAt} ms after the kill, whoami answered ${answered.whoami.at - killedAt} ms after it`);
  // b's move reached the engine, which died before answering: refused at once (the link
  // dropped with the process), retryable, long before the request's 30 s timeout.
  assert.equal(answered.move.code, ErrorCodes.GW_ERR_SCENE_MOVED);
  assert.equal(answered.move.retryable, true);
  assert.ok(answered.move.at <= resumedAt + 1000, `move answered ${answered.move.at - killedAt} ms after the kill, resume after ${recoveryMs} ms`);
  // a's whoami is idempotent: the SDK sent it again until the resumed scene answered it.
  assert.equal(answered.whoami.sceneId, 'world:1');
  assert.ok(answered.whoami.at <= resumedAt + 1000, `whoami answered ${answered.whoami.at - killedAt} ms after the kill, resume after ${recoveryMs} ms`);
  assert.equal(a.resumed[0]!.sceneId, 'world:1');
  assert.match(a.resumed[0]!.reason, new RegExp(`engine ${victim.id} was lost; the scene resumed on ${survivor.id}`));
  // The gateway logs the move once with a count (each player only at debug level).
  const summed = (): number =>
    cluster
      .logs()
      .split('\n')
      .filter((line) => line.includes('[gateway-1] players resumed') && line.includes(`from=${victim.id} to=${survivor.id} why=lost`))
      .reduce((n, line) => n + Number(/ players=(\d+)/.exec(line)?.[1] ?? 0), 0);
  await waitFor(() => summed() === 2, { timeoutMs: 10_000, message: 'the gateway to log one summary of the resumed players' });
  assert.doesNotMatch(cluster.logs(), /\[gateway-1\] player resumed/);

  // Still the same connections, and the game goes on from the saved state.
  assert.deepEqual(a.closes, []);
  assert.deepEqual(b.closes, []);
  const me = await a.api.whoami({});
  assert.equal(me.sceneId, 'world:1');
  assert.deepEqual([me.x, me.y], [before.x, before.y], 'position reloaded from the last save');
  const moved = await a.api.move({ seq: 2, x: before.x + 5, y: before.y });
  assert.equal(moved.ack, 2);
  const status = await readStatus(cluster.config);
  assert.equal(status.placements.find((p) => p.sceneId === 'world:1')?.engineId, survivor.id);
  assert.deepEqual(status.members.filter((m) => m.role === 'engine').map((m) => m.id), [survivor.id]);
  await Promise.all(players.map((p) => p.client.close()));
});
