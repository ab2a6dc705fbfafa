/**
 * The leader evens out the gateways with real processes (docs/scaling.md "Rebalancing"): every
 * player on gateway-1, then gateway-2 starts; the leader asks gateway-1 to send the clients that
 * even them out (a partial drain request in etcd), and those clients move with the core push
 * Reconnect, without an error or a close, keeping their scene. No more move than that.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { guest } from '@gos/client';
import { readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { connectAs, testCluster } from './cluster-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
after(() => cluster.cleanup());

const PLAYERS = 6;

test('a new gateway receives its share of the connected clients; they move without an error', { timeout: 120_000 }, async () => {
  // A gap of 3 clients is enough here (20 by default).
  await cluster.start('coordinator', 'coordinator-1', { GOS_COORDINATOR_REBALANCE_MIN_CLIENTS: '2' }).ready;
  await cluster.start('engine', 'engine-1').ready;
  const ready1 = await cluster.start('gateway', 'gateway-1').ready;
  const players = [];
  for (let i = 0; i < PLAYERS; i++) players.push(await connectAs({ ...(await guest(String(ready1['http']))), gateway: String(ready1['ws']) }));
  const moves: string[] = [];
  const errors: string[] = [];
  for (const p of players) {
    p.client.on('moved', (e) => moves.push(e.url));
    p.client.on('error', (e) => errors.push(String(e)));
  }
  const before = await Promise.all(players.map((p) => p.api.whoami({})));

  const ready2 = await cluster.start('gateway', 'gateway-2').ready;
  await waitFor(() => moves.length >= PLAYERS / 2, { timeoutMs: 30_000, message: `half the players to move (moved: ${moves.length}; errors: ${errors.join('; ')})` });
  const loads = async (): Promise<number[]> => {
    const status = await readStatus(cluster.config);
    return ['gateway-1', 'gateway-2'].map((id) => status.members.find((m) => m.id === id)?.load ?? -1);
  };
  await waitFor(async () => (await loads()).join('/') === `${PLAYERS / 2}/${PLAYERS / 2}`, { timeoutMs: 10_000, message: 'the gateways even' });

  // As many as even them out, not more (later passes, after the 10 s pause, moving none back:
  // the unit tests of the leader's pass, packages/coordinator/test/rebalancer.test.ts).
  assert.equal(moves.length, PLAYERS / 2, 'as many as even them out, not more');
  assert.ok(moves.every((url) => url === String(ready2['ws'])));
  assert.deepEqual(errors, []);
  for (const p of players) assert.deepEqual(p.closes, [], 'no close seen by the game');
  const now = await Promise.all(players.map((p) => p.api.whoami({})));
  assert.deepEqual(now.map((w) => `${w.playerId}@${w.sceneId}`), before.map((w) => `${w.playerId}@${w.sceneId}`), 'every player kept its scene');
  assert.match(cluster.logs(), /rebalancing: clients told to move to another gateway/);
  for (const p of players) await p.client.close();
});
