/**
 * Every class of bad input gets a coded error or a closed socket with a documented code, never
 * a crash: malformed and oversized frames, truncated FlatBuffers, unknown routes, text frames,
 * floods, idle sockets, slow consumers, missing / invalid / expired tokens, a wrong protocol
 * version, bad HTTP bodies and SQL metacharacters.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import WebSocket from 'ws';
import { login, register } from '@gos/client';
import { CloseCode, ErrorReplyCodec, FrameFlag, FrameKind, encodeFrame, framePayload, readFrameHeader } from '@gos/schema';
import { waitFor } from '@gos/testing';
import type { EmbeddedCluster } from '../src/index.js';
import { MoveReqCodec, SayReqCodec, protocol } from '../src/generated/protocol.js';
import { joinAs, startCluster, tempDir, uniqueName } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let cluster: EmbeddedCluster;
const LIMITS = { maxFrameBytes: 1024, messagesPerSecond: 50, messageBurst: 60, idleTimeoutMs: 1500, maxBackpressureBytes: 4096 };

before(async () => {
  dir = await tempDir();
  cluster = await startCluster(join(dir.path, 'bad.db'), { limits: LIMITS, sessionTtlMs: 60_000 });
});
after(async () => {
  await cluster.close();
  await dir.remove();
});

interface RawSocket {
  ws: WebSocket;
  frames: Uint8Array[];
  closed: Promise<{ code: number; reason: string }>;
}

async function raw(query: string): Promise<RawSocket> {
  const ws = new WebSocket(`${cluster.url.replace('http', 'ws')}/ws?${query}`);
  const frames: Uint8Array[] = [];
  ws.on('message', (data: Buffer) => frames.push(new Uint8Array(data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed };
}

async function authed(): Promise<RawSocket> {
  const name = uniqueName('raw');
  await register(cluster.url, name, 'correct-horse-1');
  const auth = await login(cluster.url, name, 'correct-horse-1');
  return raw(`token=${auth.token}&v=${protocol.version}`);
}

function errorFor(sock: RawSocket, requestId: number): { code: string; message: string } | undefined {
  const f = sock.frames.find((x) => readFrameHeader(x)?.requestId === requestId && readFrameHeader(x)?.kind === FrameKind.ERROR);
  return f === undefined ? undefined : ErrorReplyCodec.decode(framePayload(f));
}

test('no token → 4001', async () => {
  const s = await raw(`v=${protocol.version}`);
  assert.equal((await s.closed).code, CloseCode.AUTH_REQUIRED);
});

test('unknown token → 4002', async () => {
  const s = await raw(`token=${'A'.repeat(43)}&v=${protocol.version}`);
  assert.equal((await s.closed).code, CloseCode.AUTH_INVALID);
});

test('expired token → 4002', async () => {
  const short = await startCluster(join(dir.path, 'expiry.db'), { sessionTtlMs: 300, serveWeb: false });
  try {
    const name = uniqueName('exp');
    await register(short.url, name, 'correct-horse-1');
    const auth = await login(short.url, name, 'correct-horse-1');
    // A duration, not a condition: the 300 ms session TTL runs out. (The embedded cluster's session
    // store takes no clock to move, and looking the session up would extend it.)
    await setTimeout(600);
    const ws = new WebSocket(`${auth.gateway}?token=${auth.token}&v=${protocol.version}`);
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    assert.equal(code, CloseCode.AUTH_INVALID);
  } finally {
    await short.close();
  }
});

test('wrong or missing protocol version → 4003', async () => {
  const name = uniqueName('ver');
  await register(cluster.url, name, 'correct-horse-1');
  const auth = await login(cluster.url, name, 'correct-horse-1');
  const s = await raw(`token=${auth.token}&v=999`);
  assert.equal((await s.closed).code, CloseCode.PROTOCOL_VERSION);
  // No `v` at all is a mismatch too; without a token, the missing token is reported first.
  const missing = await raw(`token=${auth.token}`);
  assert.deepEqual(await missing.closed, { code: CloseCode.PROTOCOL_VERSION, reason: `GW_ERR_PROTOCOL_VERSION: server speaks ${protocol.version}` });
  assert.equal((await (await raw('')).closed).code, CloseCode.AUTH_REQUIRED);
});

test('malformed frame header → 4008', async () => {
  const s = await authed();
  s.ws.send(new Uint8Array([1, 0, 1]));
  assert.equal((await s.closed).code, CloseCode.BAD_FRAME);
});

test('unknown frame kind → 4008', async () => {
  const s = await authed();
  s.ws.send(encodeFrame(99 as never, 1, 1, null));
  assert.equal((await s.closed).code, CloseCode.BAD_FRAME);
});

test('reserved frame flag bit → 4008, on a REQUEST and on a PING', async () => {
  const request = await authed();
  request.ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.move.id, 1, MoveReqCodec.encode({ seq: 1, x: 1, y: 1 }), 0x80 | FrameFlag.NO_REPLY));
  assert.deepEqual(await request.closed, { code: CloseCode.BAD_FRAME, reason: 'reserved frame flag bits set' });
  // NO_REPLY is defined for REQUEST frames only.
  const ping = await authed();
  ping.ws.send(encodeFrame(FrameKind.PING, 0, 1, null, FrameFlag.NO_REPLY));
  assert.equal((await ping.closed).code, CloseCode.BAD_FRAME);
  assert.equal(ping.frames.filter((f) => readFrameHeader(f)?.kind === FrameKind.PONG).length, 0, 'no PONG for a refused PING');
});

test('text frame → 4008', async () => {
  const s = await authed();
  s.ws.send('hello');
  assert.equal((await s.closed).code, CloseCode.BAD_FRAME);
});

test('oversized frame → 4009; far oversized → dropped by uWS before buffering it', async () => {
  const s = await authed();
  s.ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.say.id, 1, new Uint8Array(LIMITS.maxFrameBytes)));
  assert.equal((await s.closed).code, CloseCode.FRAME_TOO_LARGE);
  const huge = await authed();
  huge.ws.send(new Uint8Array(LIMITS.maxFrameBytes * 3));
  assert.equal((await huge.closed).code, 1006);
  // The gateway is fine afterwards.
  assert.equal((await fetch(`${cluster.url}/healthz`)).status, 200);
});

test('unknown route → GW_ERR_UNKNOWN_ROUTE error frame, socket stays open', async () => {
  const s = await authed();
  s.ws.send(encodeFrame(FrameKind.REQUEST, 4321, 7, null));
  await waitFor(() => errorFor(s, 7) !== undefined, { timeoutMs: 3000, message: 'error frame' });
  assert.equal(errorFor(s, 7)?.code, 'GW_ERR_UNKNOWN_ROUTE');
  // Still usable: a PING gets a PONG.
  s.ws.send(encodeFrame(FrameKind.PING, 0, 8, null));
  await waitFor(() => s.frames.some((f) => readFrameHeader(f)?.kind === FrameKind.PONG), { timeoutMs: 3000, message: 'pong' });
  s.ws.close();
});

test('truncated FlatBuffer → SCH_ERR_BAD_PAYLOAD error frame, scene unharmed', async () => {
  const s = await authed();
  const good = MoveReqCodec.encode({ seq: 1, x: 10, y: 10 });
  for (const [i, cut] of [2, 5, good.byteLength - 3].entries()) {
    s.ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.move.id, 100 + i, good.subarray(0, cut)));
  }
  s.ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.move.id, 200, new Uint8Array([255, 255, 255, 127, 1, 2, 3, 4, 5, 6, 7, 8])));
  await waitFor(() => [100, 101, 102, 200].every((id) => errorFor(s, id) !== undefined), { timeoutMs: 3000, message: 'error frames' });
  for (const id of [100, 101, 102, 200]) assert.equal(errorFor(s, id)?.code, 'SCH_ERR_BAD_PAYLOAD');
  // A good request on the same socket still works.
  s.ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.move.id, 300, good));
  await waitFor(() => s.frames.some((f) => readFrameHeader(f)?.requestId === 300 && readFrameHeader(f)?.kind === FrameKind.RESPONSE), { timeoutMs: 3000, message: 'response' });
  s.ws.close();
});

test('flood → 4006', async () => {
  const s = await authed();
  const ping = encodeFrame(FrameKind.PING, 0, 1, null);
  for (let i = 0; i < LIMITS.messageBurst + 50; i++) s.ws.send(ping);
  assert.equal((await s.closed).code, CloseCode.RATE_LIMITED);
});

test('idle socket → 4005', async () => {
  const s = await authed();
  const closed = await s.closed;
  assert.equal(closed.code, CloseCode.IDLE_TIMEOUT);
});

test('slow consumer → 4007', async () => {
  // A cluster of its own with a high frame rate, so one talker can outrun the kernel's buffers.
  const fast = await startCluster(join(dir.path, 'slow.db'), {
    serveWeb: false,
    limits: { messagesPerSecond: 20_000, messageBurst: 20_000, maxBackpressureBytes: 64 * 1024, idleTimeoutMs: 60_000 },
  });
  try {
    const name = uniqueName('slow');
    await register(fast.url, name, 'correct-horse-1');
    const auth = await login(fast.url, name, 'correct-horse-1');
    const ws = new WebSocket(`${auth.gateway}?token=${auth.token}&v=${protocol.version}`);
    await new Promise<void>((resolve) => ws.once('open', () => resolve()));
    const closed = new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    // Stop reading: the gateway's buffer for this socket grows with every broadcast.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const talker = await joinAs(fast.url, uniqueName('talker'));
    const text = 'x'.repeat(190);
    // Each check that finds the slow socket still connected sends 100 more chat lines.
    await waitFor(
      () => {
        if (fast.gateway.connections <= 1) return true;
        for (let i = 0; i < 100; i++) void talker.api.say({ text }).catch(() => {});
        return false;
      },
      { timeoutMs: 30_000, message: 'the gateway to drop the slow consumer', intervalMs: 20 },
    );
    (ws as unknown as { _socket: { resume(): void } })._socket.resume();
    assert.equal(await closed, CloseCode.SLOW_CONSUMER);
    await talker.client.close();
  } finally {
    await fast.close();
  }
});

test('HTTP: invalid input 400, taken name 409, bad credentials 401, bad JSON 400, big body 413', async () => {
  const post = (path: string, body: string) => fetch(`${cluster.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  let r = await post('/v1/auth/register', JSON.stringify({ username: 'a', password: 'correct-horse-1' }));
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { code: string }).code, 'GW_ERR_INVALID_USERNAME');
  r = await post('/v1/auth/register', JSON.stringify({ username: uniqueName('pw'), password: 'short' }));
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { code: string }).code, 'GW_ERR_INVALID_PASSWORD');
  const name = uniqueName('dup');
  assert.equal((await post('/v1/auth/register', JSON.stringify({ username: name, password: 'correct-horse-1' }))).status, 201);
  r = await post('/v1/auth/register', JSON.stringify({ username: name.toUpperCase(), password: 'correct-horse-1' }));
  assert.equal(r.status, 409);
  assert.equal(((await r.json()) as { code: string }).code, 'GW_ERR_USERNAME_TAKEN');
  r = await post('/v1/auth/login', JSON.stringify({ username: name, password: 'wrong-password' }));
  assert.equal(r.status, 401);
  assert.equal(((await r.json()) as { code: string }).code, 'GW_ERR_BAD_CREDENTIALS');
  r = await post('/v1/auth/login', JSON.stringify({ username: 'nobody-here', password: 'wrong-password' }));
  assert.equal(r.status, 401);
  r = await post('/v1/auth/login', '{"username": ');
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { code: string }).code, 'GW_ERR_BAD_REQUEST');
  r = await post('/v1/auth/login', JSON.stringify({ username: 'x'.repeat(10_000), password: 'y' }));
  assert.equal(r.status, 413);
  r = await fetch(`${cluster.url}/v1/nothing`);
  assert.equal(r.status, 404);
});

test('auth flood from one address → 429 GW_ERR_RATE_LIMITED, other routes unaffected', async () => {
  const limited = await startCluster(join(dir.path, 'auth-limit.db'), { serveWeb: false, limits: { authRequestsPerSecond: 1, authBurst: 3 } });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${limited.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nobody', password: 'wrong-password' }) });
      statuses.push(r.status);
      if (r.status === 429) assert.equal(((await r.json()) as { code: string }).code, 'GW_ERR_RATE_LIMITED');
      else await r.body?.cancel();
    }
    assert.deepEqual(statuses.slice(0, 3), [401, 401, 401]);
    assert.ok(statuses.slice(3).every((s) => s === 429), statuses.join(','));
    assert.equal((await fetch(`${limited.url}/healthz`)).status, 200);
  } finally {
    await limited.close();
  }
});

test('SQL metacharacters are data, not SQL', async () => {
  const post = (path: string, body: unknown) => fetch(`${cluster.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // Refused by the charset rule before reaching the store…
  const r = await post('/v1/auth/register', { username: "x'; DROP TABLE accounts; --", password: 'correct-horse-1' });
  assert.equal(r.status, 400);
  // …and in passwords, which go to the KDF, they work as any other characters.
  const name = uniqueName('sql');
  const password = "p'; DROP TABLE accounts; -- \" OR 1=1";
  assert.equal((await post('/v1/auth/register', { username: name, password })).status, 201);
  assert.equal((await post('/v1/auth/login', { username: name, password })).status, 200);
  assert.equal((await post('/v1/auth/login', { username: `${name}' OR '1'='1`, password })).status, 401);
  // Chat text with metacharacters goes through the scene and back unchanged.
  const p = await joinAs(cluster.url, uniqueName('chat'));
  const lines: string[] = [];
  p.client.onPush('ChatLine', (l) => lines.push(l.text));
  await p.api.say({ text: "'); DELETE FROM players; --" });
  await waitFor(() => lines.length === 1, { timeoutMs: 3000, message: 'chat' });
  assert.equal(lines[0], "'); DELETE FROM players; --");
  await p.client.close();
});

test('chat: NUL, controls and bidi overrides are stripped; invalid UTF-8 → SCH_ERR_BAD_PAYLOAD', async () => {
  const listener = await joinAs(cluster.url, uniqueName('listen'));
  const lines: string[] = [];
  listener.client.onPush('ChatLine', (l) => lines.push(l.text));
  await listener.api.whoami({}); // in the scene, so subscribed to its broadcasts
  const s = await authed();
  s.ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.say.id, 1, SayReqCodec.encode({ text: 'hi\u0000 the\u001bre\u202e!\n' })));
  // The same request with a byte that is not UTF-8 in place of the text's first character.
  const bad = SayReqCodec.encode({ text: 'Xbad bytes' });
  bad[Buffer.from(bad).indexOf('Xbad')] = 0xff;
  s.ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.say.id, 2, bad));
  s.ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.say.id, 3, SayReqCodec.encode({ text: 'after' })));
  await waitFor(() => lines.includes('after'), { timeoutMs: 3000, message: 'the chat lines' });
  assert.deepEqual(lines, ['hi there!', 'after']);
  assert.equal(errorFor(s, 2)?.code, 'SCH_ERR_BAD_PAYLOAD');
  s.ws.close();
  await listener.client.close();
});
