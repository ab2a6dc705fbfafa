/**
 * Live scene migration end to end (docs/scaling.md): the embedded cluster plus a second engine
 * on the same coordinator and store. A scene moves from engine-1 to engine-2 while one player
 * streams moves: every move is answered once, in order, none refused; the data moved with the
 * scene; both players stayed connected and got SceneMoved. A drain (the engine closing) moves
 * the scene back the same way.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes, isCodedError } from '@gos/schema';
import { Engine } from '@gos/engine';
import { waitFor } from '@gos/testing';
import { GAME_MODULE, type EmbeddedCluster } from '../src/cluster.js';
import { joinAs, startCluster, tempDir, uniqueName, type Player } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

/** A second engine beside the embedded one: same coordinator, store and secret, over TCP. */
async function secondEngine(cluster: EmbeddedCluster, engineId: string): Promise<Engine> {
  const engine = new Engine({
    engineId,
    clusterSecret: cluster.clusterSecret,
    gameModule: GAME_MODULE,
    store: cluster.store,
    presence: cluster.sessions,
    coordinator: cluster.coordinator,
    workers: 1,
    persistIntervalMs: 200,
  });
  await engine.start();
  return engine;
}

/** The player's move counter as last saved (the demo counts every move it handles). */
async function movesOf(cluster: EmbeddedCluster, p: Player): Promise<number> {
  const record = await cluster.store.loadPlayer(p.accountId);
  const data = record?.data;
  return typeof data === 'object' && data !== null && 'moves' in data && typeof data.moves === 'number' ? data.moves : -1;
}

/** Moves of +1 in x, `count` of them sent at once (pipelined); the answers, in the order they came. */
function stream(p: Player, firstSeq: number, count: number, x0: number, y: number): Promise<Array<{ seq: number; ack: number; x: number } | { seq: number; error: string }>> {
  const order: Array<{ seq: number; ack: number; x: number } | { seq: number; error: string }> = [];
  const sent = Array.from({ length: count }, (_, i) => {
    const seq = firstSeq + i;
    return p.api.move({ seq, x: x0 + i + 1, y }).then(
      (res) => void order.push({ seq, ack: res.ack, x: res.x }),
      (err: unknown) => void order.push({ seq, error: isCodedError(err) ? `${err.code}: ${err.message}` : String(err) }),
    );
  });
  return Promise.all(sent).then(() => order);
}

test('a scene moves live to another engine and back (a drain): players stay connected, moves sent meanwhile are answered once and in order', { timeout: 60_000 }, async () => {
  const cluster = await startCluster(join(dir.path, 'migration.db'));
  let engine2: Engine | undefined;
  try {
    engine2 = await secondEngine(cluster, 'engine-2');
    const a = await joinAs(cluster.url, uniqueName('mig'));
    const b = await joinAs(cluster.url, uniqueName('mig'));
    const moved: Array<{ sceneId: string; reason: string }> = [];
    a.client.onPush('SceneMoved', (m) => moved.push(m));
    const resumed: unknown[] = [];
    a.client.onPush('SceneResumed', (r) => resumed.push(r));
    const start = await a.api.whoami({});
    assert.equal(start.sceneId, 'world:1');
    assert.equal(cluster.coordinator.placement.lookup('world:1')?.engineId, 'engine-1');
    const y = start.y;
    const x0 = Math.min(start.x, 500);
    await a.api.move({ seq: 1, x: x0, y });

    // 60 moves in flight while the scene moves: none may be lost, refused or applied twice.
    const during = stream(a, 2, 60, x0, y);
    const outcome = await cluster.engine.migrateScene('world:1', 'engine-2');
    assert.equal(outcome.to, 'engine-2');
    assert.equal(outcome.players, 2);
    const answers = await during;
    assert.deepEqual(answers.filter((r) => 'error' in r), [], 'no move refused');
    assert.deepEqual(answers.map((r) => r.seq), Array.from({ length: 60 }, (_, i) => i + 2), 'answered in the order sent');
    assert.deepEqual(answers.map((r) => ('ack' in r ? r.ack : -1)), Array.from({ length: 60 }, (_, i) => i + 2));
    assert.equal((await a.api.whoami({})).sceneId, 'world:1');
    // The data moved with the scene: its move counter saw each of the 61 moves once.
    await waitFor(async () => (await movesOf(cluster, a)) === 61, { timeoutMs: 5000, message: '61 moves counted once in the saved data' });
    assert.equal(cluster.coordinator.placement.lookup('world:1')?.engineId, 'engine-2');
    assert.deepEqual(cluster.engine.sceneIds, []);
    assert.deepEqual(engine2.sceneIds, ['world:1']);
    await waitFor(() => moved.length === 1, { timeoutMs: 5000, message: 'the SceneMoved push' });
    assert.equal(moved[0]!.sceneId, 'world:1');
    assert.deepEqual(resumed, [], 'a live move is no resume');
    assert.equal((await b.api.whoami({})).sceneId, 'world:1', 'the idle player plays on too');
    assert.equal(a.client.state, 'open');
    assert.equal(b.client.state, 'open');

    // A scene that does not run there, a target that is no live engine, or the engine itself: refused.
    await assert.rejects(cluster.engine.migrateScene('world:1', 'engine-2'), { code: ErrorCodes.ENG_ERR_MIGRATION });
    await assert.rejects(engine2.migrateScene('world:1', 'engine-9'), { code: ErrorCodes.ENG_ERR_MIGRATION });
    await assert.rejects(engine2.migrateScene('world:1', 'engine-2'), { code: ErrorCodes.ENG_ERR_MIGRATION });

    // A drain: engine-2 closes and moves its scene live to the only other engine first.
    const drainMoves = stream(a, 62, 40, x0 + 60, y);
    await engine2.close();
    engine2 = undefined;
    const drained = await drainMoves;
    assert.deepEqual(drained.filter((r) => 'error' in r), [], 'no move refused during the drain');
    assert.deepEqual(drained.map((r) => r.seq), Array.from({ length: 40 }, (_, i) => i + 62));
    assert.equal((await a.api.whoami({})).sceneId, 'world:1');
    await waitFor(async () => (await movesOf(cluster, a)) === 101, { timeoutMs: 5000, message: '101 moves counted once in the saved data' });
    assert.equal(cluster.coordinator.placement.lookup('world:1')?.engineId, 'engine-1');
    await waitFor(() => moved.length === 2, { timeoutMs: 5000, message: 'the second SceneMoved push' });
    assert.deepEqual(resumed, []);
    assert.equal(a.client.state, 'open');
    assert.equal(b.client.state, 'open');
    await a.client.close();
    await b.client.close();
  } finally {
    await engine2?.close();
    await cluster.close();
  }
});

test('a new engine receives its share: the leader moves scenes live until both are within 15 % of the mean, then stops', { timeout: 120_000 }, async () => {
  let logins = 0;
  // Four scenes of ten players each, all on engine-1 (the only engine when they are placed). The
  // leader moves nothing when fewer than 10 players would even the engines out: 40 → 30/10 → 20/20.
  const cluster = await startCluster(join(dir.path, 'rebalance.db'), { sceneForLogin: () => `world:${11 + (logins++ % 4)}` });
  let engine2: Engine | undefined;
  const players: Player[] = [];
  try {
    for (let i = 0; i < 40; i++) players.push(await joinAs(cluster.url, uniqueName('bal')));
    const moved: string[] = [];
    const resumed: string[] = [];
    for (const p of players) {
      p.client.onPush('SceneMoved', (m) => moved.push(m.sceneId));
      p.client.onPush('SceneResumed', (r) => resumed.push(r.sceneId));
    }
    const { membership, placement, moves } = cluster.coordinator;
    await waitFor(() => membership.get('engine-1')?.load === 40 || undefined, { timeoutMs: 5000, message: 'engine-1 publishing its 40 players' });
    const startedAt = Date.now();
    engine2 = await secondEngine(cluster, 'engine-2');
    const loads = (): number[] => ['engine-1', 'engine-2'].map((id) => membership.get(id)?.load ?? -1);
    await waitFor(() => loads().every((l) => Math.abs(l - 20) <= 20 * 0.15) || undefined, { timeoutMs: 30_000, message: 'both engines within 15 % of the mean load' });
    const seconds = (Date.now() - startedAt) / 1000;
    console.log(`rebalanced in ${seconds.toFixed(1)} s: ${loads().join(' / ')} players`);
    assert.deepEqual(
      ['world:11', 'world:12', 'world:13', 'world:14'].map((id) => placement.lookup(id)?.engineId).sort(),
      ['engine-1', 'engine-1', 'engine-2', 'engine-2'],
    );
    await waitFor(() => moved.length === 20 || undefined, { timeoutMs: 5000, message: 'SceneMoved for the 20 players whose scene moved' });
    assert.deepEqual(resumed, []);
    for (const p of players) assert.equal(p.client.state, 'open');
    // Balanced: later passes, past every pause and every scene's rest, ask for nothing.
    for (let i = 1; i <= 3; i++) await cluster.leader.reconcile(Date.now() + i * 120_000);
    assert.deepEqual(moves.list(), [], 'no move once balanced');
    assert.ok(['world:11', 'world:12', 'world:13', 'world:14'].includes((await players[0]!.api.whoami({})).sceneId));
  } finally {
    for (const p of players) await p.client.close();
    await engine2?.close();
    await cluster.close();
  }
});

