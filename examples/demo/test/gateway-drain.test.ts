/**
 * A gateway drained with real processes (docs/scaling.md#gateways): stopped with SIGTERM, it
 * tells its clients to move to the other gateway (core push Reconnect). The SDK moves without
 * an error or a close; the player keeps its seat in its scene (no PlayerLeft for the others, no
 * SceneResumed), and a player moving the whole time has every request answered once, in order.
 * The same through the operator's command, `npm run status -- drain <gateway>`.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { guest } from '@gos/client';
import { waitFor } from '@gos/testing';
import { BIN, connectAs, guestPlayer, runNode, testCluster } from './cluster-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
after(() => cluster.cleanup());

test('gateway stopped with SIGTERM: its clients move to the other gateway, same scene, every request answered once', { timeout: 120_000 }, async () => {
  const { baseUrl } = await cluster.startRoles({ engines: 1 });
  const second = await cluster.start('gateway', 'gateway-2').ready;
  const gateway1 = cluster.members.find((m) => m.id === 'gateway-1')!;
  const ready1 = await gateway1.ready;
  // Both players on gateway-1, whatever login would choose.
  const mover = await connectAs({ ...(await guest(baseUrl)), gateway: String(ready1['ws']) });
  const watcher = await guestPlayer(String(second['http']));
  const left: string[] = [];
  watcher.client.on('PlayerLeft', (p) => left.push(p.id));
  const moves: string[] = [];
  const errors: string[] = [];
  mover.client.on('moved', (e) => moves.push(e.url));
  mover.client.on('error', (e) => errors.push(String(e)));
  const me = await mover.api.whoami({});

  // The mover moves the whole time: the next move at each snapshot, one request under way.
  const acks: number[] = [];
  let seq = 0;
  let busy = false;
  let running = true;
  const step = (): void => {
    if (!running || busy) return;
    busy = true;
    const s = ++seq;
    mover.api.move({ seq: s, x: 100 + (s % 40), y: 200 }).then(
      (r) => acks.push(r.ack),
      (err: unknown) => errors.push(`move ${s}: ${String(err)}`),
    ).finally(() => {
      busy = false;
    });
  };
  mover.client.on('WorldSnapshot', step);
  step();
  await waitFor(() => acks.length >= 5, { timeoutMs: 10_000, message: 'the mover playing on gateway-1' });

  const stoppedAt = Date.now();
  gateway1.signal('SIGTERM');
  assert.equal(await gateway1.exited, 0, 'a clean stop');
  const exitMs = Date.now() - stoppedAt;
  await waitFor(() => moves.length === 1, { timeoutMs: 10_000, message: `the mover to move (closes: ${mover.closes.join('; ')}; errors: ${errors.join('; ')})` });
  const before = acks.length;
  await waitFor(() => acks.length >= before + 5, { timeoutMs: 10_000, message: 'the mover playing on gateway-2' });
  running = false;
  await waitFor(() => !busy, { timeoutMs: 10_000, message: 'the last move answered' });
  console.log(`gateway drain: gateway-1 exited ${exitMs} ms after SIGTERM; ${acks.length} moves answered`);

  assert.equal(moves[0], String(second['ws']));
  assert.deepEqual(errors, []);
  assert.deepEqual(mover.closes, [], 'no close seen by the game');
  assert.deepEqual(mover.resumed, [], 'not resumed from a save');
  assert.deepEqual(acks, Array.from({ length: seq }, (_, i) => i + 1), 'every move answered once, in order');
  assert.deepEqual(left, [], 'the mover never left its scene (the engine handed its seat over)');
  const after = await mover.api.whoami({});
  assert.equal(after.sceneId, me.sceneId);
  assert.equal(after.playerId, me.playerId);
  assert.doesNotMatch(cluster.logs(), /write refused: fenced/);
  await mover.client.close();
  await watcher.client.close();
});

test('gateway drained with `npm run status -- drain <gateway>`: its clients move on, it exits 0', { timeout: 120_000 }, async () => {
  // The first test left gateway-2 alone; a third one to move to.
  const third = await cluster.start('gateway', 'gateway-3').ready;
  const gateway2 = cluster.members.find((m) => m.id === 'gateway-2')!;
  const ready2 = await gateway2.ready;
  const player = await connectAs({ ...(await guest(String(ready2['http']))), gateway: String(ready2['ws']) });
  const moves: string[] = [];
  const errors: string[] = [];
  player.client.on('moved', (e) => moves.push(e.url));
  player.client.on('error', (e) => errors.push(String(e)));
  const me = await player.api.whoami({});

  const unknown = await runNode([BIN.status, '--config', cluster.configFile, 'drain', 'gateway-9']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no engine or gateway gateway-9 in the cluster \(members: .*gateway-2/);

  const drained = await runNode([BIN.status, '--config', cluster.configFile, 'drain', 'gateway-2', '--timeout', '60']);
  assert.equal(drained.code, 0, `status drain: ${drained.stderr}`);
  assert.match(drained.stdout, /gateway-2 drained and left/);
  assert.equal(await gateway2.exited, 0, 'a clean stop');
  await waitFor(() => moves.length === 1, { timeoutMs: 10_000, message: `the player to move (closes: ${player.closes.join('; ')}; errors: ${errors.join('; ')})` });
  assert.equal(moves[0], String(third['ws']));
  const after = await player.api.whoami({});
  assert.equal(after.sceneId, me.sceneId);
  assert.equal(after.playerId, me.playerId);
  assert.deepEqual(errors, []);
  assert.deepEqual(player.closes, [], 'no close seen by the game');
  assert.match(cluster.logs(), /drain requested by an operator/);
  await player.client.close();
});
