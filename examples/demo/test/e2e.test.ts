/**
 * The whole path with real parts: uWS gateway on an ephemeral port, the link, the engine's
 * worker threads and rings, SQLite on disk, and two SDK clients over real sockets.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CloseCode, CodedError, FrameFlag, FrameKind, encodeFrame, readFrameHeader } from '@gos/schema';
import WebSocket from 'ws';
import { GameClient, guest, login, register } from '@gos/client';
import { waitFor } from '@gos/testing';
import { createApi, protocol, SayReqCodec, WhoAmIReqCodec } from '../src/generated/protocol.js';
import { inward, joinAs, startCluster, tempDir, uniqueName } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

test('two players see each other move in real time', async () => {
  const cluster = await startCluster(join(dir.path, 'see.db'));
  try {
    const a = await joinAs(cluster.url, uniqueName('alice'));
    const b = await joinAs(cluster.url, uniqueName('bob'));
    const seenByA = new Map<string, { x: number; y: number }>();
    a.client.onPush('WorldSnapshot', (s) => s.players.forEach((p) => seenByA.set(p.id, { x: p.x, y: p.y })));
    const meB = await b.api.whoami({});
    const res = await b.api.move({ seq: 1, x: inward(meB.x, 30), y: meB.y });
    assert.equal(res.ack, 1);
    await waitFor(() => seenByA.get(b.accountId)?.x === res.x, { timeoutMs: 3000, message: 'A to see B at its new position' });
    assert.equal(seenByA.get(b.accountId)?.y, res.y);
    // Chat goes through the scene broadcast.
    const lines: string[] = [];
    b.client.onPush('ChatLine', (l) => lines.push(`${l.from}:${l.text}`));
    await a.api.say({ text: 'hello' });
    await waitFor(() => lines.length === 1, { timeoutMs: 3000, message: 'chat line' });
    assert.equal(lines[0], `${a.username}:hello`);
    await a.client.close();
    await b.client.close();
  } finally {
    await cluster.close();
  }
});

test('NO_REPLY inputs get no response, refusals still answer; the SDK send() uses it', async () => {
  const cluster = await startCluster(join(dir.path, 'noreply.db'));
  try {
    const a = await joinAs(cluster.url, uniqueName('quiet'));
    const lines: string[] = [];
    a.client.onPush('ChatLine', (l) => lines.push(l.text));
    await a.api.whoami({}); // answered by the scene: A is in it and subscribed to its broadcasts
    // A raw socket, to see every frame the server sends.
    const name = uniqueName('raw');
    await register(cluster.url, name, 'correct-horse-1');
    const auth = await login(cluster.url, name, 'correct-horse-1');
    const ws = new WebSocket(`${auth.gateway}?token=${auth.token}&v=${protocol.version}`);
    const frames: Uint8Array[] = [];
    ws.on('message', (d: Buffer) => frames.push(new Uint8Array(d)));
    await new Promise((r) => ws.once('open', r));
    const kindsFor = (id: number): number[] => frames.map((f) => readFrameHeader(f)!).filter((h) => h.requestId === id).map((h) => h.kind);
    ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.say.id, 7, SayReqCodec.encode({ text: 'no reply' }), FrameFlag.NO_REPLY));
    ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.whoami.id, 8, WhoAmIReqCodec.encode({})));
    ws.send(encodeFrame(FrameKind.REQUEST, 999, 9, null, FrameFlag.NO_REPLY));
    // Frames come back in order: once 8 and 9 are answered, 7 would have been too.
    await waitFor(() => kindsFor(8).length === 1 && kindsFor(9).length === 1, { timeoutMs: 3000, message: 'answers to 8 and 9' });
    assert.deepEqual(kindsFor(7), [], 'no frame answers a NO_REPLY request that succeeded');
    assert.deepEqual(kindsFor(8), [FrameKind.RESPONSE]);
    assert.deepEqual(kindsFor(9), [FrameKind.ERROR], 'a refused NO_REPLY request still gets its ERROR');
    await waitFor(() => lines.includes('no reply'), { timeoutMs: 3000, message: 'the quiet chat line' });
    ws.close();

    // The SDK: send() is fire-and-forget; a refusal surfaces as an error event.
    const errors: unknown[] = [];
    a.client.on('error', (e) => errors.push(e));
    assert.equal(a.client.send(protocol.routes.say, { text: 'sent' }), true);
    await waitFor(() => lines.includes('sent'), { timeoutMs: 3000, message: 'the sent chat line' });
    assert.equal(a.client.send({ ...protocol.routes.say, id: 998 }, { text: 'nobody' }), true);
    await waitFor(() => errors.length === 1, { timeoutMs: 3000, message: 'the refusal as an error event' });
    assert.ok(errors[0] instanceof CodedError);
    assert.equal(errors[0].code, 'GW_ERR_UNKNOWN_ROUTE');
    assert.equal(a.client.pendingRequests, 0);
    await a.client.close();
    assert.equal(a.client.send(protocol.routes.say, { text: 'late' }), false);
  } finally {
    await cluster.close();
  }
});

test('data persists across a restart: log in again and you are where you left', async () => {
  const db = join(dir.path, 'persist.db');
  const name = uniqueName('carol');
  let where: { x: number; y: number };
  {
    const cluster = await startCluster(db);
    try {
      const p = await joinAs(cluster.url, name);
      const me = await p.api.whoami({});
      const res = await p.api.move({ seq: 1, x: me.x - 40, y: me.y + 25 });
      where = { x: res.x, y: res.y };
      // No leave: the graceful shutdown must write the player back.
    } finally {
      await cluster.close();
    }
  }
  const cluster = await startCluster(db);
  try {
    const p = await joinAs(cluster.url, name, undefined, false);
    const me = await p.api.whoami({});
    assert.deepEqual({ x: me.x, y: me.y }, where);
    await p.client.close();
  } finally {
    await cluster.close();
  }
});

test("a player's scene is remembered: logging in again puts it back there, unless sceneForLogin says otherwise", async () => {
  const db = join(dir.path, 'scene-memory.db');
  const name = uniqueName('erin');
  let where: { x: number; y: number };
  {
    // Sent to world:2 at its first login (a portal, a shard: any way of getting there).
    const cluster = await startCluster(db, { sceneForLogin: () => 'world:2' });
    try {
      const p = await joinAs(cluster.url, name);
      const res = await p.api.move({ seq: 1, x: 12, y: 34 });
      where = { x: res.x, y: res.y };
      await p.client.close();
    } finally {
      await cluster.close();
    }
  }
  {
    // A gateway whose default scene is world:1.
    const cluster = await startCluster(db);
    try {
      const p = await joinAs(cluster.url, name, undefined, false);
      const me = await p.api.whoami({});
      assert.equal(me.sceneId, 'world:2', 'back in the scene it was saved in');
      assert.deepEqual({ x: me.x, y: me.y }, where);
      await p.client.close();
    } finally {
      await cluster.close();
    }
  }
  const seen: Array<string | null> = [];
  const cluster = await startCluster(db, {
    sceneForLogin: (account) => {
      seen.push(account.lastSceneId);
      return 'world:3';
    },
  });
  try {
    const p = await joinAs(cluster.url, name, undefined, false);
    assert.equal((await p.api.whoami({})).sceneId, 'world:3', 'the hook decides');
    assert.deepEqual(seen, ['world:2']);
    await p.client.close();
  } finally {
    await cluster.close();
  }
});

test('logging in again closes the previous connection with SESSION_REPLACED', async () => {
  const cluster = await startCluster(join(dir.path, 'relogin.db'));
  try {
    const name = uniqueName('dave');
    const first = await joinAs(cluster.url, name);
    const closed = new Promise<number>((resolve) => first.client.on('close', (e) => resolve(e.code)));
    const second = await joinAs(cluster.url, name, undefined, false);
    assert.equal(await closed, CloseCode.SESSION_REPLACED);
    const me = await second.api.whoami({});
    assert.equal(me.name, name);
    await second.client.close();
  } finally {
    await cluster.close();
  }
});

test('guest login plays without registering', async () => {
  const cluster = await startCluster(join(dir.path, 'guest.db'));
  try {
    const g = await guest(cluster.url);
    assert.match(g.username, /^guest-/);
    const client = new GameClient({ url: g.gateway, token: g.token, protocol, WebSocket: WebSocket });
    await client.connect();
    const me = await createApi(client).whoami({});
    assert.equal(me.playerId, g.accountId);
    await client.close();
    // A guest account has no password to log in with.
    const r = await fetch(`${cluster.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: g.username, password: '' }) });
    assert.equal(r.status, 401);
  } finally {
    await cluster.close();
  }
});

test('sceneForLogin shards players into scene instances; an invalid choice refuses the login', async () => {
  let n = 0;
  const cluster = await startCluster(join(dir.path, 'shard.db'), {
    sceneForLogin: (account) => {
      n++;
      if (account.username.startsWith('bad')) return 'Not A Scene!';
      return n <= 2 ? 'world:a' : 'world:b';
    },
  });
  try {
    const scenes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await joinAs(cluster.url, uniqueName('shard'));
      scenes.push((await p.api.whoami({})).sceneId);
      await p.client.close();
    }
    assert.deepEqual(scenes, ['world:a', 'world:a', 'world:b']);
    const name = uniqueName('bad');
    await register(cluster.url, name, 'correct-horse-1');
    const r = await fetch(`${cluster.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: name, password: 'correct-horse-1' }) });
    assert.equal(r.status, 500);
    assert.equal(((await r.json()) as { code: string }).code, 'GW_ERR_INTERNAL');
  } finally {
    await cluster.close();
  }
});

test('healthz answers 200 when ready and close is graceful and idempotent', async () => {
  const cluster = await startCluster(join(dir.path, 'health.db'));
  const res = await fetch(`${cluster.url}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'ok');
  const p = await joinAs(cluster.url, uniqueName('erin'));
  const closed = new Promise<number>((resolve) => p.client.on('close', (e) => resolve(e.code)));
  await Promise.all([cluster.close(), cluster.close()]);
  assert.equal(await closed, CloseCode.SERVER_SHUTDOWN);
});
