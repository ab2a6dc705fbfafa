/**
 * The engine's end of the REPL (AdminToEngine.COMMAND over the link): credentials checked,
 * commands answered, every bad input a coded error, eval only with write and at a tick.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MemoryChatBackend } from '@gos/chat';
import { ErrorCodes } from '@gos/schema';
import { AdminToEngine, EngineToAdmin, EngineToEngine, LinkClient, decodeAnswerBody, encodeAdminBody, encodeCallBody } from '@gos/link';
import { Engine } from '../src/index.js';
import { GAME, SECRET, startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-admin-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const OPS = { name: 'ops', secret: 'ops-secret-0123456789', write: true };
const VIEWER = { name: 'viewer', secret: 'viewer-secret-0123456789' };

/** An operator's link to the engine: one command at a time. */
async function operator(port: number): Promise<{ send: (command: string, args: unknown[], o?: { user?: string; secret?: string; write?: boolean; rawArgs?: string }) => Promise<unknown>; close: () => Promise<void> }> {
  const link = new LinkClient({ nodeId: 'repl:test', secret: SECRET, host: '127.0.0.1', port });
  const up = new Promise<void>((r) => link.once('up', () => r()));
  void link.start();
  await up;
  let next = 1;
  const waiting = new Map<number, (v: unknown) => void>();
  link.on('message', (type: number, channel: number, body: Uint8Array) => {
    if (type !== EngineToAdmin.ANSWER) return;
    const a = decodeAnswerBody(body);
    waiting.get(channel)?.(a.ok ? { ok: true, result: JSON.parse(a.result) as unknown } : { ok: false, code: a.code });
    waiting.delete(channel);
  });
  return {
    send: (command, args, o = {}) =>
      new Promise((resolve) => {
        const id = next++;
        waiting.set(id, resolve);
        link.send(AdminToEngine.COMMAND, id, encodeAdminBody({ user: o.user ?? OPS.name, secret: o.secret ?? OPS.secret, command, args: o.rawArgs ?? JSON.stringify(args), write: o.write ?? false }));
      }),
    close: () => link.close(),
  };
}

test('REPL commands: credentials, scenes, players, state, player data, calls, and eval only with write', async () => {
  const c = await startCluster(dir, 'admin', { workers: 1, engine: { admin: { credentials: [OPS, VIEWER] } } });
  const op = await operator(c.port);
  try {
    await c.gw.join(1, 'ann');
    assert.deepEqual(await op.send('hello', [], { secret: 'wrong-secret-0123456789' }), { ok: false, code: ErrorCodes.ENG_ERR_ADMIN_DENIED });
    assert.deepEqual(await op.send('hello', [], { user: 'nobody' }), { ok: false, code: ErrorCodes.ENG_ERR_ADMIN_DENIED });
    assert.deepEqual(await op.send('hello', []), { ok: true, result: { engineId: 'engine-t', write: false } });
    const scenes = (await op.send('scenes', [])) as { ok: true; result: Array<{ sceneId: string; players: number; service: boolean }> };
    assert.deepEqual(scenes.result.map((s) => [s.sceneId, s.players, s.service]), [['arena:1', 1, false]]);
    const players = (await op.send('players', [])) as { ok: true; result: Array<{ playerId: string; sceneId: string }> };
    assert.deepEqual(players.result.map((p) => [p.playerId, p.sceneId]), [['ann', 'arena:1']]);
    assert.equal(((await op.send('state', ['arena:1'])) as { ok: true; result: { joins: number } }).result.joins, 1);
    assert.deepEqual(await op.send('player', ['ann']), { ok: true, result: { id: 'ann', name: 'ann', data: { total: 0 } } });
    // A service started by the call; a cast.
    assert.deepEqual(await op.send('call', ['counter:9', 'add', { by: 3 }]), { ok: true, result: { n: 3 } });
    assert.deepEqual(await op.send('cast', ['counter:9', 'bump', null]), { ok: true, result: null });
    assert.deepEqual(await op.send('state', ['counter:9']), { ok: true, result: { n: 4, log: ['started'] } });
    // eval: read-only refused; with write, run at the tick boundary; its changes are saved.
    assert.deepEqual(await op.send('eval', ['arena:1', '(s) => s.state.joins']), { ok: false, code: ErrorCodes.ENG_ERR_ADMIN_READ_ONLY });
    // A credential without write may not eval, even from a REPL started with --write.
    assert.deepEqual(await op.send('eval', ['arena:1', '(s) => s.state.joins'], { user: VIEWER.name, secret: VIEWER.secret, write: true }), { ok: false, code: ErrorCodes.ENG_ERR_ADMIN_READ_ONLY });
    assert.deepEqual(await op.send('eval', ['arena:1', 'async (s) => s.state.joins'], { write: true }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await op.send('eval', ['arena:1', '(s) => { s.state.joins = 77; return s.tick > 0; }'], { write: true }), { ok: true, result: true });
    assert.equal(((await op.send('state', ['arena:1'])) as { ok: true; result: { joins: number } }).result.joins, 77);
    // Bad input: coded, and the engine goes on.
    assert.deepEqual(await op.send('eval', ['arena:1', 'not js ((('], { write: true }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await op.send('eval', ['arena:1', '42'], { write: true }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await op.send('eval', ['arena:1', '() => { throw new Error("x") }'], { write: true }), { ok: false, code: ErrorCodes.ENG_ERR_HANDLER_FAILED });
    assert.deepEqual(await op.send('state', ['arena:404']), { ok: false, code: ErrorCodes.ENG_ERR_NOT_PLACED });
    assert.deepEqual(await op.send('player', ['nobody']), { ok: false, code: ErrorCodes.ENG_ERR_NOT_JOINED });
    assert.deepEqual(await op.send('call', ['counter:9', '$push', {}]), { ok: false, code: ErrorCodes.SCH_ERR_BAD_PAYLOAD });
    assert.deepEqual(await op.send('call', ['counter:9', 'nosuch', {}]), { ok: false, code: ErrorCodes.ENG_ERR_NO_HANDLER });
    assert.deepEqual(await op.send('state', []), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await op.send('format', ['c:']), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await op.send('scenes', [], { rawArgs: '{not json' }), { ok: false, code: ErrorCodes.SCH_ERR_BAD_PAYLOAD });
    assert.deepEqual(await op.send('hello', []), { ok: true, result: { engineId: 'engine-t', write: false } });
  } finally {
    await op.close();
    await c.close();
  }
});

test('REPL chat and mail commands: mute and unmute through the chat backend, mail sent with write only', async () => {
  const chat = new MemoryChatBackend();
  await chat.start();
  const c = await startCluster(dir, 'admin-chat', { workers: 1, engine: { admin: { credentials: [OPS] }, chat } });
  const op = await operator(c.port);
  try {
    assert.deepEqual(await op.send('chat', ['mute', 'ann', 10]), { ok: false, code: ErrorCodes.ENG_ERR_ADMIN_READ_ONLY });
    const muted = (await op.send('chat', ['mute', 'ann', 10], { write: true })) as { ok: true; result: { mutedUntil: string } };
    assert.ok(muted.ok && Date.parse(muted.result.mutedUntil) > Date.now() + 9 * 60_000);
    assert.ok((await chat.mutedUntil('ann')) > Date.now(), 'the backend the gateways read has it');
    assert.deepEqual(await op.send('chat', ['muted', 'ann']), { ok: true, result: muted.result && { playerId: 'ann', mutedUntil: muted.result.mutedUntil } });
    assert.deepEqual(await op.send('chat', ['unmute', 'ann'], { write: true }), { ok: true, result: { playerId: 'ann', mutedUntil: null } });
    assert.equal(await chat.mutedUntil('ann'), 0);
    await chat.append({ channel: 'world', from: 'bob', name: 'Bob', text: 'hi' }, { maxLines: 10, maxAgeMs: 60_000 });
    const history = (await op.send('chat', ['history', 'world', 5])) as { ok: true; result: Array<{ from: string; text: string }> };
    assert.deepEqual(history.result.map((l) => [l.from, l.text]), [['bob', 'hi']]);
    assert.deepEqual(await op.send('chat', ['mute', 'ann', 0], { write: true }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await op.send('chat', ['shout', 'ann']), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    assert.deepEqual(await op.send('chat', ['history', 'bad channel', 5]), { ok: false, code: ErrorCodes.OPT_ERR_INVALID });
    // Mail from the REPL: sending needs write; reading does not.
    assert.deepEqual(await op.send('mail', ['send', { players: ['ann'] }, { subject: 'hi' }]), { ok: false, code: ErrorCodes.ENG_ERR_ADMIN_READ_ONLY });
    const sent = (await op.send('mail', ['send', { players: ['ann'] }, { subject: 'hi', attachments: { gold: 1 } }], { write: true })) as { ok: true; result: number };
    assert.equal(sent.ok, true);
    const listed = (await op.send('mail', ['list', 'ann'])) as { ok: true; result: Array<{ mailId: number }> };
    assert.deepEqual(listed.result.map((m) => m.mailId), [sent.result]);
    assert.deepEqual(await op.send('mail', ['claim', 'ann', sent.result]), { ok: false, code: ErrorCodes.OPT_ERR_INVALID }, 'claiming is the player\'s');
  } finally {
    await op.close();
    await c.close();
    await chat.close();
  }
});

test("a REPL command reaches a scene of another engine with its credential's proof; a peer that only knows the cluster secret cannot eval", async () => {
  const c = await startCluster(dir, 'admin-across', { workers: 1, engine: { admin: { credentials: [OPS] } } });
  const other = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: GAME, store: c.store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, workerLogLevel: 'silent', admin: { credentials: [OPS] } });
  await other.start();
  const op = await operator(c.port);
  // A peer posing as engine-u (it knows the cluster secret), dialling engine-t directly.
  const forger = new LinkClient({ nodeId: 'engine-u', secret: SECRET, host: '127.0.0.1', port: c.port });
  try {
    await c.gw.join(1, 'cy');
    await c.coordinator.placement.assign('counter:5', 'engine-u');
    assert.deepEqual(await op.send('call', ['counter:5', 'add', { by: 2 }]), { ok: true, result: { n: 2 } });
    assert.deepEqual(await op.send('eval', ['counter:5', '(s) => s.state.n * 10'], { write: true }), { ok: true, result: 20 });
    const up = new Promise<void>((r) => forger.once('up', () => r()));
    void forger.start();
    await up;
    const answer = new Promise<{ ok: boolean; code: string }>((resolve) =>
      forger.on('message', (type: number, _channel: number, body: Uint8Array) => {
        if (type === EngineToEngine.ANSWER) resolve(decodeAnswerBody(body));
      }),
    );
    forger.send(EngineToEngine.CALL, 9, encodeCallBody({ to: 'arena:1', from: 'counter:5', message: '$eval', payload: JSON.stringify({ code: '(s) => { s.state.joins = -1; }' }), cast: false, timeoutMs: 5000 }));
    assert.deepEqual(await answer.then((a) => [a.ok, a.code]), [false, ErrorCodes.ENG_ERR_ADMIN_DENIED]);
    assert.equal(((await op.send('state', ['arena:1'])) as { ok: true; result: { joins: number } }).result.joins, 1, 'not evaluated');
  } finally {
    await forger.close();
    await op.close();
    await other.close();
    await c.close();
  }
});

test('an engine without admin credentials refuses every REPL command', async () => {
  const c = await startCluster(dir, 'admin-none', { workers: 1 });
  const op = await operator(c.port);
  try {
    assert.deepEqual(await op.send('hello', []), { ok: false, code: ErrorCodes.ENG_ERR_ADMIN_DENIED });
    assert.deepEqual(await op.send('scenes', []), { ok: false, code: ErrorCodes.ENG_ERR_ADMIN_DENIED });
  } finally {
    await op.close();
    await c.close();
  }
});
