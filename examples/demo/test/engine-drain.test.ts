/**
 * An engine stopped gracefully (SIGTERM, a rolling restart) with real processes: it saves every
 * scene and player before it leaves the cluster, so the engine that takes the scene over loads
 * the last state, not the last periodic save; its players stay connected and get SceneResumed.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { guestPlayer, inFlightRequests, testCluster } from './cluster-helpers.js';

// No periodic save during the test: only the engine's final save can carry the last move.
const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 60_000 });
after(() => cluster.cleanup());

test('engine stopped with SIGTERM: its players move to the other engine with nothing lost', { timeout: 120_000 }, async () => {
  const { baseUrl, engines } = await cluster.startRoles({ engines: 2 });
  const player = await guestPlayer(baseUrl);
  const { client, api, closes, resumed } = player;
  const second = await guestPlayer(baseUrl);
  const last = await api.move({ seq: 1, x: 33, y: 44 });

  const host = (await readStatus(cluster.config)).placements.find((p) => p.sceneId === 'world:1');
  assert.ok(host !== undefined);
  const stopping = cluster.members.find((m) => m.id === host.engineId)!;
  const other = engines.find((e) => e !== stopping)!;
  // Paused, then stopped: requests it received while paused are in flight during the drain.
  stopping.signal('SIGSTOP');
  const inFlight = (await inFlightRequests(second, player)).answered;
  const stoppedAt = Date.now();
  stopping.signal('SIGTERM');
  stopping.signal('SIGCONT');
  assert.equal(await stopping.exited, 0, 'a clean stop');
  await waitFor(
    () => {
      if (resumed.length === 0) throw new Error(`closes: ${closes.join('; ')}`);
      return true;
    },
    { timeoutMs: 20_000, message: 'the player to be told SceneResumed' },
  );
  assert.equal(resumed.length, 1, `resumed (closes: ${closes.join('; ')})`);
  const resumedAt = resumed[0]!.at;
  const answered = await inFlight;
  console.log(`drain: resumed ${resumedAt - stoppedAt} ms after SIGTERM; move ${answered.move.code} after ${answered.move.at - stoppedAt} ms, whoami answered after ${answered.whoami.at - stoppedAt} ms`);
  // The draining engine may still have served the move, or refused it (retryable): either way at once.
  assert.ok(answered.move.code === 'ok' || answered.move.retryable === true, `move: ${answered.move.code}`);
  assert.ok(answered.move.at <= resumedAt + 1000, `move answered ${answered.move.at - stoppedAt} ms after SIGTERM, resume after ${resumedAt - stoppedAt} ms`);
  assert.ok(answered.whoami.at <= resumedAt + 1000, `whoami answered ${answered.whoami.at - stoppedAt} ms after SIGTERM, resume after ${resumedAt - stoppedAt} ms`);
  await second.client.close();
  assert.match(resumed[0]!.reason, new RegExp(`engine ${stopping.id} (shut down|was lost); the scene resumed on ${other.id}`));
  const me = await api.whoami({});
  assert.deepEqual([me.x, me.y], [last.x, last.y], 'the move made just before the stop was saved and loaded');
  assert.deepEqual(closes, []);
  assert.doesNotMatch(cluster.logs(), /write refused: fenced/);
  await client.close();
});
