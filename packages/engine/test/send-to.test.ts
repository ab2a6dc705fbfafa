/**
 * Pushes to a player wherever it plays (ctx.sendTo / scene.sendTo): in the sender's scene,
 * another scene of the engine, a scene of another engine (found through the presence store);
 * false for a player who is offline; coded errors otherwise; in order from one scene to one player.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes, FrameKind, framePayload, readFrameHeader } from '@gos/schema';
import { EngineToGateway } from '@gos/link';
import { Engine, type PlayerLocator } from '../src/index.js';
import { FakeGateway, GAME, SECRET, startCluster, type Received } from './helpers.js';
import { jsonCodec } from './fixtures/json-protocol.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-send-to-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Cluster = Awaited<ReturnType<typeof startCluster>>;
type Outcome = { ok: true; delivered: boolean[] } | { ok: false; code: string };

/**
 * Presence as the gateways keep it (their session store's `locate`): player → the scene its
 * session names. `answers` queues what the next lookups of a player return, before the map.
 */
class Presence implements PlayerLocator {
  readonly scenes = new Map<string, string>();
  readonly answers = new Map<string, string[]>();
  lookups = 0;
  async locate(playerId: string): Promise<{ sceneId: string } | null> {
    this.lookups++;
    const next = this.answers.get(playerId)?.shift();
    const sceneId = next ?? this.scenes.get(playerId);
    return sceneId === undefined ? null : { sceneId };
  }
}

async function sendTo(c: Cluster, connId: number, req: { to: string; text?: string; count?: number; push?: string }): Promise<Outcome> {
  return (await c.gw.request(connId, 'sendTo', req)).body as Outcome;
}

/** Take the next Shout push on `connId` out of `gw`'s inbox: its JSON body. */
async function shout(gw: FakeGateway, connId: number): Promise<{ from: string; text: string }> {
  const isPush = (m: Received): boolean => m.type === EngineToGateway.TO_CLIENT && m.channel === connId && readFrameHeader(m.body)?.kind === FrameKind.PUSH;
  const m = await gw.waitFor(isPush);
  return jsonCodec.decode(framePayload(m.body)) as { from: string; text: string };
}

test('a push reaches a player in the same scene and in another scene of the engine, without asking presence', async () => {
  const presence = new Presence();
  const c = await startCluster(dir, 'send-local', { engine: { presence } });
  try {
    await c.gw.join(1, 'ann');
    await c.gw.join(2, 'bo');
    await c.coordinator.placement.ensure('arena:2');
    await c.gw.join(3, 'cy', 'arena:2');
    assert.deepEqual(await sendTo(c, 1, { to: 'bo', text: 'hi bo' }), { ok: true, delivered: [true] });
    assert.deepEqual(await shout(c.gw, 2), { from: 'ann', text: 'hi bo' });
    assert.deepEqual(await sendTo(c, 1, { to: 'cy', text: 'hi cy' }), { ok: true, delivered: [true] });
    assert.deepEqual(await shout(c.gw, 3), { from: 'ann', text: 'hi cy' });
    // To oneself, too.
    assert.deepEqual(await sendTo(c, 1, { to: 'ann', text: 'me' }), { ok: true, delivered: [true] });
    assert.deepEqual(await shout(c.gw, 1), { from: 'ann', text: 'me' });
    assert.equal(presence.lookups, 0, 'players of this engine are found through its own seats');
  } finally {
    await c.close();
  }
});

test('a player who is offline, or not where its presence says, is reported offline (false); bad pushes are coded errors', async () => {
  const presence = new Presence();
  const c = await startCluster(dir, 'send-offline', { engine: { presence } });
  try {
    await c.gw.join(1, 'dee');
    assert.deepEqual(await sendTo(c, 1, { to: 'nobody', text: 'x' }), { ok: true, delivered: [false] });
    // Its session names a scene it is not in (it left, say): looked at once, then offline.
    presence.scenes.set('gone', 'arena:2');
    assert.deepEqual(await sendTo(c, 1, { to: 'gone', text: 'x' }), { ok: true, delivered: [false] });
    // A scene placed nowhere is not placed for a push.
    presence.scenes.set('ghost', 'arena:77');
    assert.deepEqual(await sendTo(c, 1, { to: 'ghost', text: 'x' }), { ok: true, delivered: [false] });
    assert.equal(c.coordinator.placement.lookup('arena:77'), undefined);
    assert.deepEqual(await sendTo(c, 1, { to: 'dee', push: 'NoSuchPush' }), { ok: false, code: ErrorCodes.ENG_ERR_NO_HANDLER });
    assert.deepEqual(await sendTo(c, 1, { to: '', text: 'x' }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await sendTo(c, 1, { to: 'p'.repeat(256), text: 'x' }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    // Ids are opaque: quotes, wildcards and separators find nobody, and break nothing.
    for (const to of ["x' OR 1=1; --", 'acct:*', 'dee\u0000', '$push']) assert.deepEqual(await sendTo(c, 1, { to, text: 'x' }), { ok: true, delivered: [false] }, to);
    // A failing push whose promise nobody awaits (sendTo destructured from the context) leaves the scene's thread alive.
    assert.deepEqual((await c.gw.request(1, 'sendToVoid', {})).body, {});
    assert.deepEqual(await sendTo(c, 1, { to: 'dee', text: 'still here' }), { ok: true, delivered: [true] });
    assert.deepEqual(c.engine.callsPending, { waiting: 0, queues: 0, pushes: 0 });
  } finally {
    await c.close();
  }
});

test('an engine without presence reaches its own players and refuses the others with ENG_ERR_NO_PRESENCE', async () => {
  const c = await startCluster(dir, 'send-no-presence');
  try {
    await c.gw.join(1, 'eve');
    await c.coordinator.placement.ensure('arena:2');
    await c.gw.join(2, 'fay', 'arena:2');
    assert.deepEqual(await sendTo(c, 1, { to: 'fay', text: 'near' }), { ok: true, delivered: [true] });
    assert.deepEqual(await shout(c.gw, 2), { from: 'eve', text: 'near' });
    assert.deepEqual(await sendTo(c, 1, { to: 'far', text: 'x' }), { ok: false, code: ErrorCodes.ENG_ERR_NO_PRESENCE });
  } finally {
    await c.close();
  }
});

test('a push reaches a player on another engine through presence, in order, and follows a player presence found late', async () => {
  const presence = new Presence();
  const c = await startCluster(dir, 'send-across', { workers: 1, engine: { presence } });
  const other = new Engine({
    engineId: 'engine-u',
    clusterSecret: SECRET,
    gameModule: GAME,
    store: c.store,
    coordinator: c.coordinator,
    presence,
    workers: 1,
    persistIntervalMs: 200,
    workerLogLevel: 'silent',
  });
  await other.start();
  const gw2 = new FakeGateway(Number(other.address.split(':')[1]), 'gw-test-2');
  await gw2.start();
  try {
    await c.gw.join(1, 'gil');
    await c.coordinator.placement.assign('arena:5', 'engine-u');
    await c.coordinator.placement.assign('arena:6', 'engine-u');
    await gw2.join(7, 'hal', 'arena:5');
    presence.scenes.set('hal', 'arena:5');
    assert.deepEqual(await sendTo(c, 1, { to: 'hal', text: 'over there' }), { ok: true, delivered: [true] });
    assert.deepEqual(await shout(gw2, 7), { from: 'gil', text: 'over there' });
    // 200 in a row arrive in the order they were sent.
    const many = await sendTo(c, 1, { to: 'hal', count: 200 });
    assert.deepEqual(many, { ok: true, delivered: Array.from({ length: 200 }, () => true) });
    for (let i = 1; i <= 200; i++) assert.equal((await shout(gw2, 7)).text, String(i));
    // Presence named a scene the player had just left; the second look finds it.
    await gw2.join(8, 'ida', 'arena:6');
    presence.answers.set('ida', ['arena:5']);
    presence.scenes.set('ida', 'arena:6');
    assert.deepEqual(await sendTo(c, 1, { to: 'ida', text: 'found you' }), { ok: true, delivered: [true] });
    assert.deepEqual(await shout(gw2, 8), { from: 'gil', text: 'found you' });
    // And back: from the other engine to a player of the first.
    presence.scenes.set('gil', 'arena:1');
    assert.deepEqual((await gw2.request(7, 'sendTo', { to: 'gil', text: 'back' })).body, { ok: true, delivered: [true] });
    assert.deepEqual(await shout(c.gw, 1), { from: 'hal', text: 'back' });
    assert.deepEqual(c.engine.callsPending, { waiting: 0, queues: 0, pushes: 0 });
  } finally {
    await gw2.close();
    await other.close();
    await c.close();
  }
});
