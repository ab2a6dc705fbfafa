/**
 * A live move whose target dies mid-way, with real processes (docs/scaling.md): the target is
 * paused (SIGSTOP) before the move, so the source saves the scene and hands the placement over,
 * and the player's join to the target hangs; then the target is killed (SIGKILL). The scene is
 * placed again once the target's lease expires and loads the save the source made when it
 * handed the scene over; the player, still connected, is told once (SceneMoved, or SceneResumed
 * when its gateway had the target linked already), and nothing was lost.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { BIN, guestPlayer, runNode, testCluster } from './cluster-helpers.js';

// No periodic save: only the source's final save can carry the last move.
// A lease long enough for the migrate command to run while the target is paused, on a busy CI too.
const cluster = await testCluster({ leaseTtlSeconds: 5, persistIntervalMs: 60_000 });
after(() => cluster.cleanup());

test('a move whose target is paused, then killed: the scene resumes from the save the source made, the player connected, nothing lost', { timeout: 120_000 }, async () => {
  const { baseUrl, engines } = await cluster.startRoles({ engines: 2 });
  const player = await guestPlayer(baseUrl);
  const last = await player.api.move({ seq: 1, x: 40, y: 50 });
  const host = (await readStatus(cluster.config)).placements.find((p) => p.sceneId === 'world:1');
  assert.ok(host !== undefined);
  const target = engines.find((e) => e.id !== host.engineId)!;
  target.signal('SIGSTOP');
  // Within the target's lease (5 s): it still counts as a live engine with room.
  const moved = await runNode([BIN.status, '--config', cluster.configFile, 'migrate', 'world:1', target.id, '--json']);
  assert.equal(moved.code, 0, `migrate: ${moved.stderr}`);
  assert.equal((JSON.parse(moved.stdout) as { to: string }).to, target.id);
  const killedAt = Date.now();
  target.signal('SIGKILL');
  const notices = (): number => player.moved.length + player.resumed.length;
  await waitFor(() => notices() > 0 || undefined, { timeoutMs: 30_000, message: 'the player to be told its scene runs again' }).catch((err: unknown) => {
    throw new Error(`${String(err)}; closes ${JSON.stringify(player.closes)}\n${cluster.logs()}`);
  });
  const notice = player.moved[0] ?? player.resumed[0]!;
  console.log(`target killed mid-move: the scene ran again ${notice.at - killedAt} ms later (lease TTL 5 s): ${notice.reason}`);
  const me = await player.api.whoami({});
  // Told once: SceneMoved when the gateway was still dialling the paused target (the move just
  // finished late), SceneResumed when it had linked the target before (gateways link engines as
  // they join) and saw that link drop with the join on it. Either way from the source's final
  // save: nothing lost.
  assert.equal(notices(), 1, `told once (moved ${player.moved.length}, resumed ${player.resumed.length})`);
  assert.deepEqual([me.sceneId, me.x, me.y], ['world:1', last.x, last.y], 'the move made before the move was saved by the source and loaded');
  assert.deepEqual(player.closes, []);
  assert.equal((await readStatus(cluster.config)).placements.find((p) => p.sceneId === 'world:1')?.engineId, host.engineId);
  assert.doesNotMatch(cluster.logs(), /write refused: fenced/);
  await player.client.close();
});
