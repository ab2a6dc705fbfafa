/**
 * Scene travel across engines with real processes on real etcd, Redis and MariaDB: a travel to a
 * scene on the other engine, then each engine killed with SIGKILL in the middle of a travel (the
 * target paused first so that the travel stops half-way). The player always ends in one scene,
 * with its last saved data, on the same socket.
 *
 * Then the later phases of a travel across engines (docs/scenes.md "Travel"), each reached for
 * sure by holding the player's row locked in MariaDB so that the source's write of it (the
 * commit point) waits: the source killed while it releases the player (before its row names
 * the target: the player stays in its scene), the target killed after the commit point (the
 * row names the target, TRAVEL_IN sent, the player not in the target yet) and the target
 * killed while the source releases (the write still lands): in both the player goes on in the
 * target scene.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test, type TestContext } from 'node:test';
import mysql from 'mysql2/promise';
import { AdminClient, readLinkTls, readStatus, type MemberProcess } from '@gos/cluster';
import { RedisSessionStore } from '@gos/gateway';
import { ErrorCodes, type RouteDef } from '@gos/schema';
import { createStore, type Store } from '@gos/store';
import { waitFor } from '@gos/testing';
import { WhoAmIReqCodec, type WhoAmIReq } from '../src/generated/protocol.js';
import { guestPlayer, loadPublished, testCluster, type TestCluster } from './cluster-helpers.js';

const LEASE_TTL_SECONDS = 2;
const MYSQL = process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';
const REDIS = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const cluster = await testCluster({ leaseTtlSeconds: LEASE_TTL_SECONDS, persistIntervalMs: 500 });
// autoMigrate: this file may be the first to use the database (run alone, on a fresh one).
const store = createStore({ kind: 'mysql', url: MYSQL, autoMigrate: true });
await store.start();
after(async () => {
  await store.close();
  await cluster.cleanup();
});

/**
 * A small CCU cap: a scene and its players weigh enough that the next scene goes to the other
 * engine. The leader's score adds each engine's thread utilisation (0–1), which on a busy CI
 * machine can differ by more than 0.1: at a cap of 10, one scene (weight 10) outweighs it.
 */
const ENGINE_ENV = { GOS_ENGINE_CAPACITY: '10' };

async function hostOf(sceneId: string, config = cluster.config): Promise<string | undefined> {
  return (await readStatus(config)).placements.find((p) => p.sceneId === sceneId)?.engineId;
}

test('travel to a scene on another engine, then SIGKILL of the target and of the source mid-travel: always one scene, same socket', { timeout: 180_000 }, async () => {
  cluster.start('coordinator', 'coordinator-1');
  const engines = [cluster.start('engine', 'engine-1', ENGINE_ENV), cluster.start('engine', 'engine-2', ENGINE_ENV)];
  await Promise.all([...cluster.members.map((m) => m.ready)]);
  const gateway = cluster.start('gateway', 'gateway-1');
  const baseUrl = String((await gateway.ready)['http']);
  const a = await guestPlayer(baseUrl);
  const changes: Array<{ from: string; to: string }> = [];
  a.client.onPush('SceneChanged', (c) => changes.push(c));
  const notices: string[] = [];
  a.client.onPush('ChatLine', (l) => notices.push(l.text));

  // 1. A travel across engines.
  assert.equal((await a.api.whoami({})).sceneId, 'world:1');
  const source = await hostOf('world:1');
  assert.ok(source !== undefined);
  await loadPublished(cluster.config, 'world:1', 1);
  await a.api.travel({ sceneId: 'world:2', x: 200, y: 200 });
  const during = a.api.move({ seq: 1, x: 210, y: 200 });
  assert.equal((await during).ack, 1);
  await waitFor(() => changes.length === 1, { timeoutMs: 10_000, message: 'SceneChanged to world:2' });
  const target = await hostOf('world:2');
  assert.ok(target !== undefined && target !== source, `world:1 on ${source}, world:2 on ${String(target)}: two engines`);
  const there = await a.api.whoami({});
  assert.deepEqual([there.sceneId, there.x, there.y], ['world:2', 210, 200]);
  assert.equal(await store.playerScene(a.auth.accountId), 'world:2');

  // 2. The target (world:1's engine) paused, so the travel back waits for its seat; then killed.
  const victim1 = engines.find((e) => e.id === source)!;
  victim1.signal('SIGSTOP');
  await a.api.travel({ sceneId: 'world:1', x: 500, y: 500 });
  const held = a.api.move({ seq: 2, x: 215, y: 200 }).then(
    () => 'ok',
    (err: { code?: string; retryable?: boolean }) => `${err.code}:${String(err.retryable)}`,
  );
  victim1.signal('SIGKILL');
  // The held input is refused (retryable), the scene's travel() rejects (the demo says so), the player stays.
  assert.equal(await held, `${ErrorCodes.GW_ERR_TRAVEL_FAILED}:true`);
  await waitFor(() => notices.some((t) => t.startsWith('cannot go to world:1')), { timeoutMs: 10_000, message: "the demo's notice of the failed travel" });
  const stayed = await a.api.whoami({});
  assert.deepEqual([stayed.sceneId, stayed.x, stayed.y], ['world:2', 210, 200]);
  assert.equal(changes.length, 1);
  assert.deepEqual(a.closes, []);

  // 3. A third engine; it is paused so the travel to world:1 (placed there now) waits; the source
  // (world:2's engine) is killed: the player resumes in world:2, its scene, from its last save.
  const engine3 = cluster.start('engine', 'engine-3', ENGINE_ENV);
  await engine3.ready;
  const saved = await a.api.move({ seq: 3, x: 230, y: 200 });
  await waitFor(
    async () => Math.fround(((await store.loadPlayer(a.auth.accountId))?.data as { x?: number } | undefined)?.x ?? NaN) === saved.x,
    { timeoutMs: 10_000, message: 'a periodic save of the last move', intervalMs: 50 },
  );
  // world:1's placement leaves the killed engine (its lease expires): the next travel places it anew.
  await waitFor(async () => (await hostOf('world:1')) !== source, { timeoutMs: 15_000, message: 'world:1 released from the killed engine' });
  const victim2 = engines.find((e) => e.id === target)!;
  engine3.signal('SIGSTOP');
  await a.api.travel({ sceneId: 'world:1', x: 500, y: 500 });
  victim2.signal('SIGKILL');
  engine3.signal('SIGCONT');
  await waitFor(() => a.resumed.length === 1, { timeoutMs: (LEASE_TTL_SECONDS + 25) * 1000, message: 'SceneResumed after the source was killed' });
  assert.equal(a.resumed[0]!.sceneId, 'world:2');
  const resumed = await a.api.whoami({});
  assert.deepEqual([resumed.sceneId, resumed.x, resumed.y], ['world:2', saved.x, saved.y], 'in its scene, with its last saved data');
  assert.equal(changes.length, 1, 'no SceneChanged: the travel did not happen');
  assert.deepEqual(a.closes, [], 'the same socket throughout');
  await a.client.close();
});

type Player = Awaited<ReturnType<typeof guestPlayer>>;

/** A route the demo does not have: the gateway refuses it (GW_ERR_UNKNOWN_ROUTE) itself. */
const NO_SUCH_ROUTE: RouteDef<WhoAmIReq, void> = Object.freeze({ id: 9999, name: 'noSuchRoute', scene: 'world', request: WhoAmIReqCodec, response: null, idempotent: false });

/**
 * The gateway handles a socket's frames in order and answers an unknown route itself: once that
 * answer is back, every frame sent before it has reached the gateway (and is held there, during
 * a travel).
 */
async function gatewayBarrier(p: Player): Promise<void> {
  await p.client.request(NO_SUCH_ROUTE, {}).then(
    () => assert.fail('the gateway accepted an unknown route'),
    (err: { code?: string }) => assert.equal(err.code, ErrorCodes.GW_ERR_UNKNOWN_ROUTE),
  );
}

/** How a request ended: `ok`, or its error code and whether it is retryable. */
function outcome(request: Promise<unknown>): Promise<string> {
  return request.then(
    () => 'ok',
    (err: { code?: string; retryable?: boolean }) => `${err.code}:${String(err.retryable)}`,
  );
}

/** The connections an engine has for `playerId` (the REPL's `players` command, over the engine's admin link). */
async function connectionsOf(c: TestCluster, engineId: string, playerId: string): Promise<Array<{ sceneId: string; state: string }>> {
  const member = (await readStatus(c.config)).members.find((m) => m.role === 'engine' && m.id === engineId);
  assert.ok(member !== undefined, `engine ${engineId} in the cluster`);
  const cred = c.config.admin.credentials[0]!;
  const admin = new AdminClient({ address: member.address, engineId, clusterSecret: c.config.cluster.secret, tls: readLinkTls(c.config), user: cred.name, secret: cred.secret, write: false });
  try {
    await admin.connect();
    const players = (await admin.command('players', [])) as Array<{ playerId: string; sceneId: string; state: string }>;
    return players.filter((p) => p.playerId === playerId).map(({ sceneId, state }) => ({ sceneId, state }));
  } finally {
    await admin.close();
  }
}

/** What a travel stopped at its release leaves to each test below. */
interface Halfway {
  readonly c: TestCluster;
  readonly store: Store;
  readonly sessions: RedisSessionStore;
  readonly a: Player;
  readonly changes: Array<{ from: string; to: string }>;
  /** world:1's engine (the travel's source) and world:2's (its target). */
  readonly source: MemberProcess;
  readonly target: MemberProcess;
  /** The player's last acknowledged move before the travel, saved. */
  readonly saved: { x: number; y: number };
  /** How the move sent during the travel (held by the gateway) ended. */
  readonly held: Promise<string>;
  /** Let the source's write of the row go (the lock is released). */
  unlock(): Promise<void>;
}

/**
 * A cluster of its own (two engines), on a database of its own, with a player in world:1 whose
 * two moves are saved; then the player's row is locked by the test (SELECT … FOR UPDATE in an
 * open transaction) and the player travels to world:2 on the other engine. The target reserves
 * the seat, the source takes the player out of world:1 and writes its row naming world:2: that
 * write waits for the lock, so the travel stays in its "releasing" phase, before the commit
 * point, for as long as the test wants. The database is the cluster's own so that a write
 * waiting there (in the server's process list) can only be this cluster's.
 */
async function travelStoppedAtRelease(t: TestContext): Promise<Halfway> {
  const database = `gos_test_travel_${randomBytes(4).toString('hex')}`;
  const server = new URL(MYSQL);
  server.pathname = '/';
  const admin = await mysql.createConnection(server.href);
  await admin.query(`CREATE DATABASE \`${database}\``);
  const url = new URL(MYSQL);
  url.pathname = `/${database}`;
  const c = await testCluster({ leaseTtlSeconds: LEASE_TTL_SECONDS, persistIntervalMs: 500, mysqlUrl: url.href });
  const store = createStore({ kind: 'mysql', url: url.href, autoMigrate: true });
  await store.start();
  const locker = await mysql.createConnection(url.href);
  // The gateway's sessions, read for the player's presence (which scene the gateway says it is in).
  assert.equal(c.config.sessions.kind, 'redis');
  const sessions = new RedisSessionStore({ url: REDIS, keyPrefix: c.config.sessions.kind === 'redis' ? c.config.sessions.keyPrefix : '' });
  await sessions.start();
  t.after(async () => {
    // The lock first (a failed test may still hold it): the engines then stop without waiting on it.
    await locker.end();
    await c.cleanup();
    await sessions.close();
    await store.close();
    await admin.query(`DROP DATABASE \`${database}\``);
    await admin.end();
  });

  c.start('coordinator', 'coordinator-1');
  const engines = [c.start('engine', 'engine-1', ENGINE_ENV), c.start('engine', 'engine-2', ENGINE_ENV)];
  await Promise.all(c.members.map((m) => m.ready));
  const baseUrl = String((await c.start('gateway', 'gateway-1').ready)['http']);
  const a = await guestPlayer(baseUrl);
  const changes: Array<{ from: string; to: string }> = [];
  a.client.onPush('SceneChanged', (ch) => changes.push(ch));

  // Two moves (data.moves counts the moves applied), saved by the periodic save.
  const me = await a.api.whoami({});
  assert.equal(me.sceneId, 'world:1');
  await a.api.move({ seq: 1, x: me.x + 10, y: me.y });
  const saved = await a.api.move({ seq: 2, x: me.x + 20, y: me.y });
  await waitFor(
    async () => {
      const data = (await store.loadPlayer(a.auth.accountId))?.data as { x?: number; moves?: number } | undefined;
      return data?.moves === 2 && Math.fround(data.x ?? NaN) === saved.x;
    },
    { timeoutMs: 10_000, intervalMs: 50, message: 'the periodic save of both moves' },
  );
  const sourceId = await hostOf('world:1', c.config);
  const source = engines.find((e) => e.id === sourceId)!;
  // world:2 goes where the published loads say: world:1's engine must have published its player.
  await loadPublished(c.config, 'world:1', 1);

  // The row locked, then the travel: it stops at the source's write of the row. Nothing else
  // writes that row meanwhile (a player is saved only when its data changed, and it is saved).
  await locker.beginTransaction();
  const [locked] = await locker.query<mysql.RowDataPacket[]>('SELECT id FROM players WHERE id = ? FOR UPDATE', [a.auth.accountId]);
  assert.equal(locked.length, 1, "the player's row locked");
  assert.deepEqual(await a.api.travel({ sceneId: 'world:2', x: 500, y: 500 }), { from: 'world:1', to: 'world:2' });
  await waitFor(
    async () => {
      const [rows] = await admin.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'UPDATE players SET%'", [database]);
      return Number(rows[0]!['n']) > 0;
    },
    { timeoutMs: 15_000, intervalMs: 50, message: "the source's write of the player's row, waiting for the lock" },
  );
  const targetId = await hostOf('world:2', c.config);
  assert.ok(targetId !== undefined && targetId !== sourceId, `world:1 on ${String(sourceId)}, world:2 on ${String(targetId)}: two engines`);
  const target = engines.find((e) => e.id === targetId)!;
  // Not committed: the row still names world:1, and the gateway's session too.
  assert.equal(await store.playerScene(a.auth.accountId), 'world:1');
  assert.equal((await sessions.locate(a.auth.accountId))?.sceneId, 'world:1');
  // An input sent now is held by the gateway (the player travels), for the target.
  const held = outcome(a.api.move({ seq: 3, x: saved.x + 10, y: saved.y }));
  await gatewayBarrier(a);
  return { c, store, sessions, a, changes, source, target, saved, held, unlock: () => locker.rollback() };
}

/**
 * After a kill mid-travel, the player has resumed (SceneResumed) in `sceneId`: there with its
 * last saved data (two moves), on the same socket, connected to exactly one scene of the one
 * live engine; the move held during the travel was refused (retryable) and never applied: one
 * move more makes the saved count 3, not 4.
 */
async function assertResumedIn(h: Halfway, sceneId: string, live: MemberProcess, killedAt: number): Promise<void> {
  const { a, saved, store } = h;
  // Refused with the other requests of a player resumed after its engine was lost (PendingRequests.failAll).
  assert.equal(await h.held, `${ErrorCodes.GW_ERR_SCENE_MOVED}:true`, 'the held move refused, retryable');
  await waitFor(() => a.resumed.length === 1, { timeoutMs: (LEASE_TTL_SECONDS + 25) * 1000, message: `SceneResumed in ${sceneId}` });
  assert.equal(a.resumed[0]!.sceneId, sceneId);
  console.log(`resumed in ${sceneId} on ${live.id} (${a.resumed[0]!.reason}) ${a.resumed[0]!.at - killedAt} ms after the kill`);
  const me = await a.api.whoami({});
  assert.deepEqual([me.sceneId, me.x, me.y], [sceneId, saved.x, saved.y], `in ${sceneId}, with its last saved data`);
  assert.equal(await store.playerScene(a.auth.accountId), sceneId, 'its row names that scene');
  assert.equal((await h.sessions.locate(a.auth.accountId))?.sceneId, sceneId, 'its session (presence) names that scene');
  assert.deepEqual(await connectionsOf(h.c, live.id, a.auth.accountId), [{ sceneId, state: 'joined' }], 'one connection, in one scene, on the live engine');
  assert.deepEqual(a.closes, [], 'the same socket throughout');
  const next = await a.api.move({ seq: 4, x: saved.x + 5, y: saved.y });
  await waitFor(
    async () => {
      const data = (await store.loadPlayer(a.auth.accountId))?.data as { x?: number; moves?: number } | undefined;
      return Math.fround(data?.x ?? NaN) === next.x;
    },
    { timeoutMs: 10_000, intervalMs: 50, message: 'the save of the move after the resume' },
  );
  const data = (await store.loadPlayer(a.auth.accountId))?.data as { moves?: number };
  assert.equal(data.moves, 3, 'two moves before the travel and one after: the held move was not applied, nor any twice');
}

test('the source SIGKILLed while it releases the player (before its row names the target): the player resumes in its source scene, from its last save, same socket', { timeout: 120_000 }, async (t) => {
  const h = await travelStoppedAtRelease(t);
  // Killed with its write of the row waiting; the lock goes only once it is dead, so that write
  // can never commit (its transaction dies with its connection).
  h.source.signal('SIGKILL');
  const killedAt = Date.now();
  await h.source.exited;
  await h.unlock();
  // Before the commit point: the player stays in world:1, resumed on the other engine once the
  // dead one's lease expires; the seat reserved in world:2 is freed.
  await assertResumedIn(h, 'world:1', h.target, killedAt);
  assert.deepEqual(h.changes, [], 'no SceneChanged: the travel did not happen');
  await h.a.client.close();
});

test('the target SIGKILLed after the commit point (row names the target, TRAVEL_IN sent, not joined yet): the player resumes in the target scene from the row the source wrote, same socket', { timeout: 120_000 }, async (t) => {
  const h = await travelStoppedAtRelease(t);
  // The target paused, then the write goes: the row names world:2 (the commit point), the
  // gateway records world:2 in the session and sends TRAVEL_IN, which the paused target never reads.
  h.target.signal('SIGSTOP');
  await h.unlock();
  await waitFor(async () => (await h.store.playerScene(h.a.auth.accountId)) === 'world:2', { timeoutMs: 10_000, intervalMs: 50, message: 'the row naming world:2' });
  // The gateway moves the session to the target when it gets TRAVEL_RELEASED, just before it sends TRAVEL_IN.
  await waitFor(async () => (await h.sessions.locate(h.a.auth.accountId))?.sceneId === 'world:2', { timeoutMs: 10_000, intervalMs: 50, message: 'TRAVEL_RELEASED at the gateway' });
  h.target.signal('SIGKILL');
  const killedAt = Date.now();
  await h.target.exited;
  assert.deepEqual(h.changes, [], 'the target never had the player: no SceneChanged');
  // After the commit point: the player belongs to world:2, placed again (on the source's
  // engine, the one left) once the dead one's lease expires, and loaded from the row the source
  // wrote: where it stood in world:1 (the arrival point was for the target's onJoin of the
  // travel, which never ran).
  await assertResumedIn(h, 'world:2', h.source, killedAt);
  await h.a.client.close();
});

test('the target SIGKILLed while the source releases the player: the source still writes the row naming the target, and the player resumes there, same socket', { timeout: 120_000 }, async (t) => {
  const h = await travelStoppedAtRelease(t);
  h.target.signal('SIGKILL');
  const killedAt = Date.now();
  await h.target.exited;
  // The gateway has seen the target's link go while the source still writes (PlayerTravel.targetLost:
  // nothing to do yet, the source may be past the point of no return).
  await waitFor(() => new RegExp(`\\[gateway-1\\] link down .*engineId=${h.target.id}`).test(h.c.logs()), { timeoutMs: 10_000, message: "the gateway's link to the target down" });
  await h.unlock();
  // The source knows nothing of it: its write lands (the commit point), and TRAVEL_RELEASED finds
  // the target's link down: the player resumes in world:2, placed again on the source's engine.
  await waitFor(async () => (await h.store.playerScene(h.a.auth.accountId)) === 'world:2', { timeoutMs: 10_000, intervalMs: 50, message: 'the row naming world:2' });
  await assertResumedIn(h, 'world:2', h.source, killedAt);
  assert.deepEqual(h.changes, [], 'the target never had the player: no SceneChanged');
  await h.a.client.close();
});
