/**
 * Fencing with real processes on real etcd, Redis and MariaDB: the engine hosting a player is
 * paused (SIGSTOP) past its lease, the scene moves to the other engine (which claims the scene
 * and player rows), and the paused engine is resumed (SIGCONT): its late writes are refused
 * and logged, and nothing the new owner wrote is overwritten.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { createStore } from '@gos/store';
import { ErrorCodes } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { guestPlayer, inFlightRequests, testCluster } from './cluster-helpers.js';

const MYSQL = process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';
// No periodic save during the test: the paused engine keeps unsaved changes to write late.
const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 60_000 });
const store = createStore({ kind: 'mysql', url: MYSQL });
await store.start();
after(async () => {
  await store.close();
  await cluster.cleanup();
});

test('an engine paused past its lease loses its scene; resumed, its late writes are refused and nothing is overwritten', { timeout: 120_000 }, async () => {
  const { baseUrl, engines } = await cluster.startRoles({ engines: 2 });
  const player = await guestPlayer(baseUrl);
  const { auth, client, api, resumed } = player;
  const second = await guestPlayer(baseUrl);
  // A change the first engine holds in memory and has not saved yet.
  const unsaved = await api.move({ seq: 1, x: 40, y: 30 });
  const host = (await readStatus(cluster.config)).placements.find((p) => p.sceneId === 'world:1');
  assert.ok(host !== undefined);
  const paused = engines.find((e) => e.id === host.engineId)!;
  const other = engines.find((e) => e !== paused)!;

  // Paused past its lease: the scene and the player move to the other engine, which claims them.
  paused.signal('SIGSTOP');
  const pausedAt = Date.now();
  // Requests the paused engine receives and cannot answer: answered once the scene has moved.
  const inFlight = (await inFlightRequests(second, player)).answered;
  await waitFor(() => resumed.length > 0, { timeoutMs: 30_000, message: 'the player to resume on the other engine' });
  assert.equal(resumed.length, 1, 'the player resumed on the other engine');
  assert.match(resumed[0]!.reason, new RegExp(`resumed on ${other.id}`));
  const resumedAt = resumed[0]!.at;
  const answered = await inFlight;
  console.log(`paused engine: players resumed ${resumedAt - pausedAt} ms after SIGSTOP; move refused after ${answered.move.at - pausedAt} ms, whoami answered after ${answered.whoami.at - pausedAt} ms`);
  assert.equal(answered.move.code, ErrorCodes.GW_ERR_SCENE_MOVED);
  assert.equal(answered.move.retryable, true);
  assert.ok(answered.move.at <= resumedAt + 1000, `move answered ${answered.move.at - pausedAt} ms after SIGSTOP, resume after ${resumedAt - pausedAt} ms`);
  assert.ok(answered.whoami.at <= resumedAt + 1000, `whoami answered ${answered.whoami.at - pausedAt} ms after SIGSTOP, resume after ${resumedAt - pausedAt} ms`);
  await second.client.close();
  // The new owner moves the player on; leaving saves it.
  const mine = await api.move({ seq: 2, x: 70, y: 80 });
  assert.notDeepEqual([mine.x, mine.y], [unsaved.x, unsaved.y]);
  await client.close();
  // The wire carries float32: compare the saved (float64) position at that precision.
  const position = (r: { data: unknown } | null): number[] => {
    const d = (r?.data ?? {}) as { x?: number; y?: number };
    return [Math.fround(d.x ?? NaN), Math.fround(d.y ?? NaN)];
  };
  const saved = await waitFor(
    async () => {
      const row = await store.loadPlayer(auth.accountId);
      return position(row)[0] === mine.x ? row : undefined;
    },
    { timeoutMs: 10_000, message: "the new owner's save", intervalMs: 50 },
  );
  assert.deepEqual(position(saved), [mine.x, mine.y], "the new owner's save");

  // Resumed: the old engine finds its gateway gone, and its player leaving, with the unsaved
  // change to write. The store refuses it and the engine logs it: fenced (the new owner claimed
  // the rows), or stale (it has also written them since: its version is ahead), whichever the
  // store meets first for these rows.
  paused.signal('SIGCONT');
  const refusedPlayers = new RegExp(`\\[${paused.id}\\] write refused: (fenced, another engine owns these rows now|rows were written by another owner); dropped.* players=2`);
  await waitFor(() => refusedPlayers.test(cluster.logs()), { timeoutMs: 15_000, message: 'the old owner\'s player rows refused' }).catch(() => {});
  assert.match(cluster.logs(), refusedPlayers, `logs:\n${cluster.logs()}`);
  const after = await store.loadPlayer(auth.accountId);
  assert.deepEqual(after?.data, saved?.data, "the new owner's data is not overwritten");
  assert.equal(after?.version, saved?.version);

  // No zombie: the resumed engine stops the scene it no longer owns and registers again under
  // a new lease, so it can host scenes anew.
  const log = (): string => cluster.logs();
  await waitFor(() => log().includes(`[${paused.id}] registered again`) && log().includes(`[${paused.id}] scene stopped`), {
    timeoutMs: 15_000,
    message: `${paused.id} to register again and stop its scene`,
  }).catch(() => {});
  assert.match(log(), new RegExp(`\\[${paused.id}\\] registered again under a new lease`), `logs:\n${log()}`);
  assert.match(log(), new RegExp(`\\[${paused.id}\\] scene stopped: (its placement was released|it was placed on ${other.id})`));
  const status = await waitFor(
    async () => {
      const now = await readStatus(cluster.config);
      return now.members.some((m) => m.id === paused.id) ? now : undefined;
    },
    { timeoutMs: 15_000, message: `${paused.id} to be a member again`, intervalMs: 100 },
  );
  assert.equal(status.placements.find((p) => p.sceneId === 'world:1')?.engineId, other.id, 'the scene stays where it moved');
});
