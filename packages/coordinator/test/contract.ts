import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '@gos/testing';
import { CoordinatorNode, type Coordinator } from '../src/index.js';

export interface MakeOptions {
  readonly placementTimeoutMs?: number;
}

/** A leader serving placement on `c` (only the leader writes placement). */
async function leaderOn(c: Coordinator): Promise<CoordinatorNode> {
  const node = new CoordinatorNode({ id: 'coordinator-test', coordinator: c, reconcileIntervalMs: 60_000 });
  await node.start();
  await waitFor(() => node.isLeader, { timeoutMs: 5000, message: 'the node to lead' });
  assert.equal(node.isLeader, true);
  return node;
}

/**
 * The behaviour every Coordinator implementation must have. Run against the in-memory one
 * here; the etcd implementation runs the same suite.
 */
export function runCoordinatorContract(name: string, make: (options?: MakeOptions) => Promise<Coordinator>): void {
  test(`${name}: membership lists, updates and removes members`, async () => {
    const c = await make();
    try {
      const events: string[] = [];
      const off = c.membership.watch((e) => events.push(`${e.type}:${e.member.id}`));
      const a = await c.membership.register({ id: 'engine-a', role: 'engine', address: '127.0.0.1:1', capacity: 100 });
      await c.membership.register({ id: 'gw-a', role: 'gateway', address: 'ws://127.0.0.1:2/ws', capacity: 100 });
      assert.deepEqual(c.membership.list('engine').map((m) => m.id), ['engine-a']);
      assert.equal(c.membership.list().length, 2);
      assert.deepEqual(c.membership.leases(), { held: 2, lost: 0, losses: 0 });
      await a.setLoad(7);
      assert.equal(c.membership.get('engine-a')?.load, 7);
      await a.leave();
      await a.leave();
      assert.equal(c.membership.get('engine-a'), undefined);
      assert.deepEqual(c.membership.leases(), { held: 1, lost: 0, losses: 0 });
      off();
      assert.deepEqual(events, ['up:engine-a', 'up:gw-a', 'update:engine-a', 'down:engine-a']);
    } finally {
      await c.close();
    }
  });

  test(`${name}: placement picks the least-loaded engine and is stable`, async () => {
    const c = await make();
    const leader = await leaderOn(c);
    try {
      await assert.rejects(c.placement.ensure('world:1'), { code: 'CRD_ERR_NO_ENGINE' });
      const busy = await c.membership.register({ id: 'e-busy', role: 'engine', address: 'x:1', capacity: 100 });
      await busy.setLoad(90);
      await c.membership.register({ id: 'e-idle', role: 'engine', address: 'x:2', capacity: 100 });
      const [p1, p2] = await Promise.all([c.placement.ensure('world:1'), c.placement.ensure('world:1')]);
      assert.equal(p1.engineId, 'e-idle');
      assert.deepEqual(p1, p2);
      assert.equal(p1.sceneType, 'world');
      assert.equal(c.placement.lookup('world:1')?.epoch, p1.epoch);
      assert.deepEqual(c.placement.scenesOf('e-idle').map((r) => r.sceneId), ['world:1']);
      await c.placement.ensure('arena:2');
      assert.deepEqual(c.placement.list().map((r) => r.sceneId), ['arena:2', 'world:1']);
    } finally {
      await leader.close();
      await c.close();
    }
  });

  test(`${name}: release is fenced by epoch and a re-placement gets a newer epoch`, async () => {
    const c = await make();
    const leader = await leaderOn(c);
    try {
      await c.membership.register({ id: 'e1', role: 'engine', address: 'x:1', capacity: 100 });
      const first = await c.placement.ensure('world:2');
      assert.equal(await c.placement.release('world:2', first.epoch + 1), false);
      assert.deepEqual(await c.placement.fetch('world:2'), first);
      assert.equal(await c.placement.release('world:2', first.epoch), true);
      assert.equal(c.placement.lookup('world:2'), undefined);
      assert.equal(await c.placement.fetch('world:2'), undefined);
      assert.equal(await c.placement.fetch('never:placed'), undefined);
      const second = await c.placement.ensure('world:2');
      assert.ok(second.epoch > first.epoch);
      assert.equal(await c.placement.release('world:2', first.epoch), false);
    } finally {
      await leader.close();
      await c.close();
    }
  });

  test(`${name}: move hands a placement over at its epoch only, with a newer epoch, and watchers see it`, async () => {
    const c = await make();
    const leader = await leaderOn(c);
    try {
      await c.membership.register({ id: 'e1', role: 'engine', address: 'x:1', capacity: 100 });
      const first = await c.placement.ensure('world:5');
      const seen: string[] = [];
      const unwatch = c.placement.watch((e) => {
        if (e.record.sceneId === 'world:5') seen.push(`${e.type}:${e.record.engineId}`);
      });
      assert.equal(await c.placement.move('world:5', first.epoch + 1, 'e2'), undefined);
      assert.equal(await c.placement.move('never:placed', 1, 'e2'), undefined);
      const moved = await c.placement.move('world:5', first.epoch, 'e2');
      assert.ok(moved !== undefined && moved.engineId === 'e2' && moved.epoch > first.epoch && moved.sceneType === 'world');
      assert.deepEqual(c.placement.lookup('world:5'), moved);
      assert.deepEqual(await c.placement.fetch('world:5'), moved);
      // The old epoch moves nothing and releases nothing any more.
      assert.equal(await c.placement.move('world:5', first.epoch, 'e3'), undefined);
      assert.equal(await c.placement.release('world:5', first.epoch), false);
      await waitFor(() => seen.includes('placed:e2'), { timeoutMs: 5000, message: 'the move to reach the watch' });
      assert.equal(moved.handover, undefined, 'a move without a hand-over carries none');
      // A hand-over goes with the placement to the target (lookup, fetch, watch), and only with that one.
      const handover = { nextTickAt: Date.now() + 40, players: 12 };
      const again = await c.placement.move('world:5', moved.epoch, 'e1', handover);
      assert.ok(again !== undefined);
      assert.deepEqual(again.handover, handover);
      assert.deepEqual((await c.placement.fetch('world:5'))?.handover, handover);
      await waitFor(() => c.placement.lookup('world:5')?.handover?.players === 12, { timeoutMs: 5000, message: 'the hand-over to reach the view' });
      unwatch();
      assert.equal(await c.placement.release('world:5', again.epoch), true);
      const placedAgain = await c.placement.ensure('world:5');
      assert.equal(placedAgain.handover, undefined, 'a placement by the leader carries no hand-over');
      assert.equal(await c.placement.release('world:5', placedAgain.epoch), true);
    } finally {
      await leader.close();
      await c.close();
    }
  });

  test(`${name}: drain requests: put, listed and watched; a newer one replaces; cleared only for its instance`, async () => {
    const c = await make();
    try {
      const seen: string[] = [];
      const unwatch = c.drains.watch((r) => seen.push(`${r.memberId}@${r.startedAt}`));
      await c.drains.request({ memberId: 'gateway-1', startedAt: 100, requestedBy: 'ops:1' });
      await c.drains.request({ memberId: 'gateway-2', startedAt: 200, requestedBy: 'ops:1' });
      assert.deepEqual(c.drains.list().map((r) => r.memberId), ['gateway-1', 'gateway-2']);
      const [first] = c.drains.list();
      assert.ok(first !== undefined && first.startedAt === 100 && first.requestedBy === 'ops:1' && first.at > 0);
      // The member was started again: a request for the new instance replaces the old one.
      await c.drains.request({ memberId: 'gateway-1', startedAt: 150, requestedBy: 'ops:2' });
      assert.deepEqual(c.drains.list().map((r) => `${r.memberId}@${r.startedAt}`), ['gateway-2@200', 'gateway-1@150']);
      await c.drains.clear('gateway-1', 100);
      assert.equal(c.drains.list().length, 2, 'a clear for the old instance leaves the new request');
      await c.drains.clear('gateway-1', 150);
      await c.drains.clear('gateway-2', 200);
      assert.deepEqual(c.drains.list(), []);
      await waitFor(() => seen.length === 3, { timeoutMs: 5000, message: 'three requests watched' });
      assert.deepEqual(seen, ['gateway-1@100', 'gateway-2@200', 'gateway-1@150']);
      unwatch();
    } finally {
      await c.close();
    }
  });

  test(`${name}: move requests: put, listed and watched; a newer one replaces; cleared only at its epoch`, async () => {
    const c = await make();
    try {
      const seen: string[] = [];
      const unwatch = c.moves.watch((r) => seen.push(`${r.sceneId}@${r.epoch}:${r.from}->${r.to}`));
      await c.moves.request({ sceneId: 'world:8', from: 'e1', epoch: 3, to: 'e2' });
      await c.moves.request({ sceneId: 'world:9', from: 'e1', epoch: 4, to: 'e2' });
      assert.deepEqual(c.moves.list().map((r) => r.sceneId), ['world:8', 'world:9']);
      const [first] = c.moves.list();
      assert.ok(first !== undefined && first.from === 'e1' && first.to === 'e2' && first.epoch === 3 && first.at > 0);
      await c.moves.request({ sceneId: 'world:8', from: 'e1', epoch: 5, to: 'e3' });
      assert.deepEqual(c.moves.list().map((r) => `${r.sceneId}@${r.epoch}`), ['world:9@4', 'world:8@5'], 'replaced, and now the newest');
      // A clear for an older request of the scene leaves the newer one.
      await c.moves.clear('world:8', 3);
      assert.equal(c.moves.list().length, 2);
      await c.moves.clear('world:8', 5);
      await c.moves.clear('world:9', 4);
      assert.deepEqual(c.moves.list(), []);
      await waitFor(() => seen.length === 3, { timeoutMs: 5000, message: 'three requests watched' });
      assert.deepEqual(seen, ['world:8@3:e1->e2', 'world:9@4:e1->e2', 'world:8@5:e1->e3']);
      unwatch();
    } finally {
      await c.close();
    }
  });

  test(`${name}: a departed engine's scenes are unplaced`, async () => {
    const c = await make();
    const leader = await leaderOn(c);
    try {
      const e1 = await c.membership.register({ id: 'e1', role: 'engine', address: 'x:1', capacity: 100 });
      await c.placement.ensure('world:3');
      const released: string[] = [];
      c.placement.watch((e) => {
        if (e.type === 'released') released.push(e.record.sceneId);
      });
      await e1.leave();
      // Released by the leader once it sees the engine go: at once in memory, after a round trip on etcd.
      await waitFor(() => released.length > 0, { timeoutMs: 5000, message: 'the leader to release world:3' });
      assert.deepEqual(released, ['world:3']);
      assert.equal(c.placement.lookup('world:3'), undefined);
    } finally {
      await leader.close();
      await c.close();
    }
  });

  test(`${name}: election has one leader and hands over on resign`, async () => {
    const c = await make();
    try {
      await c.election.campaign('c1');
      assert.equal(c.election.leader(), 'c1');
      let secondWon = false;
      const second = c.election.campaign('c2').then(() => {
        secondWon = true;
      });
      await new Promise((r) => setImmediate(r));
      assert.equal(secondWon, false);
      assert.equal(c.election.isLeader('c2'), false);
      await c.election.resign('c1');
      await second;
      assert.equal(c.election.leader(), 'c2');
    } finally {
      await c.close();
    }
  });

  test(`${name}: only a leader places: without one, a scene placed nowhere waits and fails with CRD_ERR_NO_LEADER; placed scenes stay readable`, async () => {
    const c = await make({ placementTimeoutMs: 300 });
    try {
      await c.membership.register({ id: 'e1', role: 'engine', address: 'x:1', capacity: 100 });
      const started = Date.now();
      await assert.rejects(c.placement.ensure('world:5'), { code: 'CRD_ERR_NO_LEADER' });
      assert.ok(Date.now() - started >= 250);
      assert.equal(c.placement.lookup('world:5'), undefined);
      assert.deepEqual(c.placement.requests().map((r) => r.sceneId), ['world:5'], 'the request waits for a leader');
      // A leader elected later serves the waiting request.
      const leader = await leaderOn(c);
      await waitFor(() => c.placement.lookup('world:5') !== undefined, { timeoutMs: 5000, message: 'the new leader to place world:5' });
      assert.equal(c.placement.lookup('world:5')?.engineId, 'e1');
      assert.deepEqual(c.placement.requests(), []);
      await leader.close();
      // Gone again: what is placed is still served from the view.
      assert.equal((await c.placement.ensure('world:5')).engineId, 'e1');
    } finally {
      await c.close();
    }
  });

  test(`${name}: the leader honours each engine's CCU cap and refuses when every engine is full`, async () => {
    const c = await make();
    const leader = await leaderOn(c);
    try {
      const full = await c.membership.register({ id: 'e-full', role: 'engine', address: 'x:1', capacity: 10 });
      await full.setLoad(10);
      await waitFor(() => c.membership.get('e-full')?.load === 10, { timeoutMs: 5000, message: 'the view to show e-full at load 10' });
      await assert.rejects(c.placement.ensure('world:6'), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CRD_ERR_NO_ENGINE');
        assert.match(err.message, /CCU cap/);
        return true;
      });
      // Less loaded than the full one relative to capacity would not matter: a full engine is never picked.
      await c.membership.register({ id: 'e-room', role: 'engine', address: 'x:2', capacity: 1000 });
      await waitFor(() => c.membership.get('e-room') !== undefined, { timeoutMs: 5000, message: 'the view to list e-room' });
      assert.equal((await c.placement.ensure('world:6')).engineId, 'e-room');
      assert.equal((await c.placement.ensure('world:7')).engineId, 'e-room');
    } finally {
      await leader.close();
      await c.close();
    }
  });

  test(`${name}: the leader releases the placements an engine reports idle, at their epoch only`, async () => {
    const c = await make();
    const leader = await leaderOn(c);
    try {
      const e1 = await c.membership.register({ id: 'e1', role: 'engine', address: 'x:1', capacity: 100 });
      await waitFor(() => c.membership.get('e1') !== undefined, { timeoutMs: 5000, message: 'the view to list e1' });
      const a = await c.placement.ensure('world:8');
      const b = await c.placement.ensure('world:9');
      // A stale report (an older epoch) releases nothing: once the leader's view has it, and a
      // reconcile has run on it, the placement is still there.
      await e1.publish({ idleScenes: { 'world:8': a.epoch - 1 } });
      await waitFor(() => c.membership.get('e1')?.idleScenes?.['world:8'] === a.epoch - 1, { timeoutMs: 5000, message: 'the view to have the stale idle report' });
      assert.equal(c.membership.get('e1')?.idleScenes?.['world:8'], a.epoch - 1);
      await leader.reconcile();
      assert.deepEqual(c.placement.lookup('world:8'), a);
      await e1.publish({ idleScenes: { 'world:8': a.epoch } });
      await waitFor(() => c.placement.lookup('world:8') === undefined, { timeoutMs: 5000, message: 'the leader to release world:8' });
      assert.equal(c.placement.lookup('world:8'), undefined);
      assert.deepEqual(c.placement.lookup('world:9'), b);
      // Entering it again places it anew, with a newer epoch.
      assert.ok((await c.placement.ensure('world:8')).epoch > a.epoch);
    } finally {
      await leader.close();
      await c.close();
    }
  });
}
