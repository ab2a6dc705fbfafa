/**
 * A live move whose source is killed (SIGKILL) right after the hand-over, with real processes
 * (docs/scaling.md): as soon as the placement names the target, the source dies. The target owns
 * the scene and the player: the player, still connected, is told once, finds the data it had,
 * and what it does next is saved by the target (nothing the dead source held can overwrite it).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { waitFor } from '@gos/testing';
import { BIN, guestPlayer, hostOf, runNode, testCluster, testStore } from './cluster-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
const store = await testStore();
after(async () => {
  await store.close();
  await cluster.cleanup();
});


test('a move whose source is killed right after the hand-over: the target owns the scene and the player, nothing lost', { timeout: 120_000 }, async () => {
  const { baseUrl, engines } = await cluster.startRoles({ engines: 2 });
  const player = await guestPlayer(baseUrl);
  const last = await player.api.move({ seq: 1, x: 40, y: 50 });
  const sourceId = await hostOf(cluster.config, 'world:1');
  const source = engines.find((e) => e.id === sourceId)!;
  const target = engines.find((e) => e.id !== sourceId)!;

  const migrating = runNode([BIN.status, '--config', cluster.configFile, 'migrate', 'world:1', target.id, '--json']);
  await waitFor(async () => (await hostOf(cluster.config, 'world:1')) === target.id, { timeoutMs: 30_000, intervalMs: 10, message: 'the placement handed over to the target' });
  const killedAt = Date.now();
  source.signal('SIGKILL');
  // The command may or may not have had the source's answer before it died.
  await migrating;

  const notices = (): number => player.moved.length + player.resumed.length;
  await waitFor(() => notices() > 0 || undefined, { timeoutMs: 30_000, message: 'the player to be told its scene runs on the target' }).catch((err: unknown) => {
    throw new Error(`${String(err)}; closes ${JSON.stringify(player.closes)}\n${cluster.logs()}`);
  });
  const notice = player.moved[0] ?? player.resumed[0]!;
  console.log(`source killed after the hand-over: ${notice.at - killedAt} ms to the notice (${player.moved.length > 0 ? 'SceneMoved' : 'SceneResumed'}: ${notice.reason})`);
  const me = await player.api.whoami({});
  assert.deepEqual([me.sceneId, me.x, me.y], ['world:1', last.x, last.y], 'the data it had before the move');
  assert.deepEqual(player.closes, [], 'the same socket');
  assert.equal(await hostOf(cluster.config, 'world:1'), target.id, 'the scene stays on the target');

  // The target owns the row now: the next move is saved by it, and stays.
  const next = await player.api.move({ seq: 2, x: 60, y: 50 });
  await waitFor(async () => Math.fround(((await store.loadPlayer(player.auth.accountId))?.data as { x?: number } | undefined)?.x ?? NaN) === next.x, { timeoutMs: 10_000, intervalMs: 100, message: "the target's save of the next move" });
  assert.equal(notices(), 1, 'told once');
  assert.equal((await player.api.whoami({})).x, next.x);
  assert.doesNotMatch(cluster.logs(), new RegExp(`\\[${target.id}\\].*write refused`), 'nothing the target wrote was refused');
  await player.client.close();
});
