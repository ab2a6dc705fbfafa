/**
 * An engine drained with real processes (docs/scaling.md): stopped with SIGTERM, or asked with
 * `npm run status -- drain <id>`, it moves its scenes live to the other engine before it leaves
 * the cluster. Its players stay connected and get SceneMoved (not SceneResumed: nothing is
 * reloaded from an older save), requests in flight are answered, the last move is kept, and no
 * late write is fenced.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { BIN, guestPlayer, inFlightRequests, runNode, testCluster } from './cluster-helpers.js';

// No periodic save during the test: only the engine's final save can carry the last move.
const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 60_000 });
after(() => cluster.cleanup());

test('engine stopped with SIGTERM: its scene moves live to the other engine, players connected, nothing lost', { timeout: 120_000 }, async () => {
  const { baseUrl, engines } = await cluster.startRoles({ engines: 2 });
  const player = await guestPlayer(baseUrl);
  const { client, api, closes, resumed, moved } = player;
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
      if (moved.length === 0) throw new Error(`closes: ${closes.join('; ')}; resumed: ${resumed.map((r) => r.reason).join('; ')}`);
      return true;
    },
    { timeoutMs: 20_000, message: 'the player to be told SceneMoved' },
  );
  assert.equal(moved.length, 1);
  assert.deepEqual(resumed, [], 'moved live: not resumed from a save');
  const movedAt = moved[0]!.at;
  const answered = await inFlight;
  console.log(`drain: moved ${movedAt - stoppedAt} ms after SIGTERM; move ${answered.move.code} after ${answered.move.at - stoppedAt} ms, whoami answered after ${answered.whoami.at - stoppedAt} ms`);
  assert.equal(answered.move.code, 'ok', 'the request sent to the paused engine was handled before the scene moved');
  assert.ok(answered.move.at <= movedAt + 1000, `the in-flight move answered ${answered.move.at - stoppedAt} ms after SIGTERM, moved after ${movedAt - stoppedAt} ms`);
  assert.ok(answered.whoami.at <= movedAt + 1000, `whoami answered ${answered.whoami.at - stoppedAt} ms after SIGTERM, moved after ${movedAt - stoppedAt} ms`);
  await second.client.close();
  assert.match(moved[0]!.reason, new RegExp(`moved live from engine ${stopping.id} to ${other.id}`));
  const me = await api.whoami({});
  assert.deepEqual([me.x, me.y], [last.x, last.y], 'the move made just before the stop was saved and moved with the scene');
  assert.deepEqual(closes, []);
  assert.doesNotMatch(cluster.logs(), /write refused: fenced/);

  // The same through the operator's command: a third engine, and `npm run status -- drain <id>`.
  const third = cluster.start('engine', 'engine-3');
  await third.ready;
  const drained = await runNode([BIN.status, '--config', cluster.configFile, 'drain', other.id, '--timeout', '60']);
  assert.equal(drained.code, 0, `status drain: ${drained.stderr}`);
  assert.match(drained.stdout, new RegExp(`${other.id} drained and left`));
  assert.equal(await other.exited, 0);
  await waitFor(() => moved.length === 2, { timeoutMs: 10_000, message: 'the second SceneMoved' });
  assert.match(moved[1]!.reason, new RegExp(`moved live from engine ${other.id} to engine-3`));
  assert.deepEqual(resumed, []);
  assert.equal((await api.whoami({})).sceneId, 'world:1');
  assert.equal((await readStatus(cluster.config)).placements.find((p) => p.sceneId === 'world:1')?.engineId, 'engine-3');
  // A move to an engine that is not there: refused by the tool, the scene stays.
  const none = await runNode([BIN.status, '--config', cluster.configFile, 'migrate', 'world:1', 'engine-9']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /ENG_ERR_MIGRATION/);
  assert.deepEqual(closes, []);
  await client.close();
});
