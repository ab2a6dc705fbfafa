/**
 * Chat through real gateways and sockets (docs/chat.md): two gateways sharing one chat backend
 * (memory, then real Redis), players on both, a scripted engine for their scenes. World, scene,
 * group and private channels reach exactly the players who hear them, across gateways; a line is
 * published once for all gateways; private lines to an offline player wait for its next login;
 * history, block, mute, the moderation hook, the rate limit and bad input get their coded answers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { MemoryChatBackend, MemoryChatHub, RedisChatBackend, type ChatBackend } from '@gos/chat';
import { MemoryCoordinator } from '@gos/coordinator';
import { GatewayToEngine, LocalLinks, decodeJoinBody } from '@gos/link';
import {
  CORE_PUSH,
  CORE_ROUTE,
  ChatBlockReqCodec,
  ChatBlockResCodec,
  ChatHistoryReqCodec,
  ChatHistoryResCodec,
  ChatMessageCodec,
  ChatSayReqCodec,
  ChatSayResCodec,
  ErrorCodes,
  ErrorReplyCodec,
  FrameKind,
  encodeFrame,
  framePayload,
  readFrameHeader,
  type ChatMessage,
  type ChatSayReq,
} from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { waitFor } from '@gos/testing';
import { Gateway, MemorySessionStore } from '../src/index.js';
import { ScriptedEngine, protocol } from './scripted-engines.js';

const redisUrl = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A player's socket: sends chat requests, keeps the chat lines pushed to it. */
class ChatSocket {
  readonly heard: ChatMessage[] = [];
  readonly #answers = new Map<number, { kind: number; body: Uint8Array }>();
  #nextId = 1;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const frame = new Uint8Array(data);
      const h = readFrameHeader(frame);
      if (h === null) return;
      if (h.kind === FrameKind.PUSH && h.opcode === CORE_PUSH.ChatMessage) this.heard.push({ ...ChatMessageCodec.decode(framePayload(frame)) });
      else if (h.kind === FrameKind.RESPONSE || h.kind === FrameKind.ERROR) this.#answers.set(h.requestId, { kind: h.kind, body: framePayload(frame).slice() });
    });
  }

  /** Send `payload` on core route `opcode`: its response body, or throws `Error(<code>)`. */
  async request(opcode: number, payload: Uint8Array): Promise<Uint8Array> {
    const id = this.#nextId++;
    this.ws.send(encodeFrame(FrameKind.REQUEST, opcode, id, payload));
    const answer = await waitFor(() => this.#answers.get(id), { timeoutMs: 5000, message: `the answer to request ${id}` });
    if (answer.kind === FrameKind.ERROR) throw new Error(ErrorReplyCodec.decode(answer.body).code);
    return answer.body;
  }

  async say(channel: ChatSayReq['channel'], text: string, to = ''): Promise<{ id: string; channel: string; text: string }> {
    return ChatSayResCodec.decode(await this.request(CORE_ROUTE.chatSay, ChatSayReqCodec.encode({ channel, to, text })));
  }

  async history(channel: string, limit = 0, before = ''): Promise<ChatMessage[]> {
    return [...ChatHistoryResCodec.decode(await this.request(CORE_ROUTE.chatHistory, ChatHistoryReqCodec.encode({ channel, limit, before }))).lines];
  }

  async block(playerId: string, block = true): Promise<string[]> {
    return [...ChatBlockResCodec.decode(await this.request(CORE_ROUTE.chatBlock, ChatBlockReqCodec.encode({ playerId, block }))).blocked];
  }

  /** What it heard, as `channel|sender's name|text`, a private channel named by its player's name. */
  texts(): string[] {
    return this.heard.map((m) => `${m.channel.startsWith('p:') ? `p:${names.get(m.channel.slice(2)) ?? '?'}` : m.channel}|${names.get(m.from) ?? '?'}|${m.text}`);
  }
}

/** Players' names by account id (chat lines name the player's id). */
const names = new Map<string, string>();

const rejectsWith = (code: string) => (err: unknown) => err instanceof Error && err.message === code;

interface Cluster {
  gateways: [Gateway, Gateway];
  sessions: MemorySessionStore;
  backends: [ChatBackend, ChatBackend];
  /** A socket of player `name` (in group `group`, scene `sceneId`) on gateway `i`, joined. */
  join(i: 0 | 1, name: string, sceneId?: string, group?: string | null): Promise<ChatSocket>;
  /** The account of player `name` (made the first time): its id. */
  account(name: string, group?: string | null): Promise<string>;
}

async function withCluster(makeBackends: () => Promise<[ChatBackend, ChatBackend]>, body: (c: Cluster) => Promise<void>): Promise<void> {
  const coordinator = new MemoryCoordinator();
  const store = new SqliteStore({ file: ':memory:' });
  const sessions = new MemorySessionStore();
  await Promise.all([coordinator.start(), store.start(), sessions.start()]);
  const links = new LocalLinks();
  const engine = new ScriptedEngine('engine-a', links);
  await coordinator.membership.register({ id: 'engine-a', role: 'engine', address: '127.0.0.1:9', capacity: 100 });
  await coordinator.placement.assign('world:1', 'engine-a');
  await coordinator.placement.assign('world:2', 'engine-a');
  const backends = await makeBackends();
  const shared = { clusterSecret: 'chat-test-secret-0123456789', coordinator, store, sessions, protocol, port: 0, scryptCost: 1024, localLinks: links };
  const moderate = ({ text }: { text: string }): string | null => (text.includes('spam') ? null : text.replaceAll('darn', '****'));
  const chatOf = (backend: ChatBackend) => ({ backend, maxLength: 50, rate: { perSecond: 5, burst: 8 }, moderate });
  const gateways: [Gateway, Gateway] = [new Gateway({ ...shared, gatewayId: 'gw-1', chat: chatOf(backends[0]) }), new Gateway({ ...shared, gatewayId: 'gw-2', chat: chatOf(backends[1]) })];
  const sockets: WebSocket[] = [];
  try {
    for (const g of gateways) await g.start();
    const accounts = new Map<string, string>();
    const account = async (name: string, group: string | null = null): Promise<string> => {
      const known = accounts.get(name);
      if (known !== undefined) return known;
      const { accountId } = await store.createAccount({ username: `${name}-${randomBytes(3).toString('hex')}`, passwordHash: 'x', groupId: group });
      accounts.set(name, accountId);
      names.set(accountId, name);
      return accountId;
    };
    await body({
      gateways,
      sessions,
      backends,
      account,
      async join(i, name, sceneId = 'world:1', group = null) {
        const accountId = await account(name, group);
        const { session } = await sessions.create({ accountId, username: name.toUpperCase(), sceneId, groupId: group });
        const ws = new WebSocket(`${gateways[i].publicUrl}?token=${session.token}&v=${protocol.version}`);
        sockets.push(ws);
        const socket = new ChatSocket(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        // Joined its scene (the scripted engine answers JOIN at once): the scene's topics are heard.
        await waitFor(() => engine.inbox.some((m) => m.type === GatewayToEngine.JOIN && decodeJoinBody(m.body).playerId === accountId) || undefined, { timeoutMs: 5000, message: `${name}'s JOIN` });
        await socket.history('world');
        return socket;
      },
    });
  } finally {
    for (const ws of sockets) ws.close();
    for (const g of gateways) await g.close();
    for (const b of backends) await b.close();
    await engine.stop();
    await sessions.close();
    await store.close();
    await coordinator.close();
  }
}

const variants: Array<[string, () => Promise<[ChatBackend, ChatBackend]>]> = [
  [
    'memory',
    async () => {
      const hub = new MemoryChatHub();
      const pair: [ChatBackend, ChatBackend] = [new MemoryChatBackend({ hub }), new MemoryChatBackend({ hub })];
      for (const b of pair) await b.start();
      return pair;
    },
  ],
  [
    'redis',
    async () => {
      const keyPrefix = `gos-test-gw-chat-${randomBytes(4).toString('hex')}:`;
      const pair: [ChatBackend, ChatBackend] = [new RedisChatBackend({ url: redisUrl, keyPrefix }), new RedisChatBackend({ url: redisUrl, keyPrefix })];
      for (const b of pair) await b.start();
      return pair;
    },
  ],
];

for (const [name, makeBackends] of variants) {
  describe(`chat through gateways, backend ${name}`, () => {
    test('world, scene, group and private lines reach exactly who hears them, across gateways, once each', () =>
      withCluster(makeBackends, async (c) => {
        const ann = await c.join(0, 'ann', 'world:1', 'g1');
        const bob = await c.join(1, 'bob', 'world:1', 'g1');
        const cid = await c.join(1, 'cid', 'world:2');
        const said = await ann.say('world', '  hello \u202Eall\u0000 ');
        assert.equal(said.text, 'hello all');
        assert.equal(said.channel, 'world');
        await ann.say('scene', 'in world one');
        await bob.say('group', 'guild business');
        await ann.say('private', 'psst cid', await c.account('cid'));
        await cid.say('world', 'oh darn');
        const all = ['world|ann|hello all', 'scene:world:1|ann|in world one', 'group:g1|bob|guild business', 'world|cid|oh ****'];
        await waitFor(() => (ann.heard.length >= 4 && bob.heard.length >= 4 && cid.heard.length >= 3) || undefined, { timeoutMs: 5000, message: 'every line heard' });
        assert.deepEqual(ann.texts(), all);
        assert.deepEqual(bob.texts(), all);
        assert.deepEqual(cid.texts(), ['world|ann|hello all', 'p:cid|ann|psst cid', 'world|cid|oh ****']);
        // History of the channels one hears, oldest first; not of the others.
        assert.deepEqual((await bob.history('world')).map((m) => m.text), ['hello all', 'oh ****']);
        assert.deepEqual((await cid.history('private')).map((m) => m.text), ['psst cid']);
        assert.deepEqual((await ann.history('world', 1)).map((m) => m.text), ['oh ****']);
        const [first] = await ann.history('world', 1, (await ann.history('world', 1))[0]!.id);
        assert.equal(first?.text, 'hello all', 'paging with before');
        await assert.rejects(cid.history('group'), rejectsWith(ErrorCodes.CHAT_ERR_NO_GROUP));
        await assert.rejects(cid.say('group', 'hi'), rejectsWith(ErrorCodes.CHAT_ERR_NO_GROUP));
      }));

    test('a private line to an offline player is held and delivered when it connects, once', () =>
      withCluster(makeBackends, async (c) => {
        const ann = await c.join(0, 'ann');
        const danId = await c.account('dan');
        await ann.say('private', 'see you later', danId);
        await ann.say('private', 'and again', danId);
        // No such player: refused, nothing kept.
        await assert.rejects(ann.say('private', 'anyone?', 'no-such-player'), rejectsWith(ErrorCodes.CHAT_ERR_REFUSED));
        const dan = await c.join(1, 'dan');
        await waitFor(() => dan.heard.length >= 2 || undefined, { timeoutMs: 5000, message: 'the held lines' });
        assert.deepEqual(dan.texts(), ['p:dan|ann|see you later', 'p:dan|ann|and again']);
        // Heard online: not held again.
        await ann.say('private', 'you there?', danId);
        await waitFor(() => dan.heard.length >= 3 || undefined, { timeoutMs: 5000, message: 'the line heard online' });
        dan.ws.close();
        await waitFor(() => c.gateways[1].connections === 0 || undefined, { timeoutMs: 5000, message: "dan's socket closed" });
        // Its session lives on (a closed tab): a line now waits for its next connection.
        await ann.say('private', 'while the tab was closed', danId);
        const again = await c.join(1, 'dan');
        await again.say('world', 'back');
        await waitFor(() => again.heard.length >= 2 || undefined, { timeoutMs: 5000, message: 'the held line and its own' });
        assert.deepEqual(again.texts(), ['p:dan|ann|while the tab was closed', 'world|dan|back'], 'each held line once; the one heard online not again');
      }));

    test('a client cannot put itself in a group (and so in its chat) by registering with its groupId', () =>
      withCluster(makeBackends, async (c) => {
        const res = await fetch(`${c.gateways[0].httpUrl}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `spy-${randomBytes(3).toString('hex')}`, password: 'correct-horse-1', groupId: 'g1' }) });
        assert.equal(res.status, 400);
        assert.equal(((await res.json()) as { code: string }).code, ErrorCodes.GW_ERR_INVALID_GROUP);
      }));

    test('block, mute, moderation, the rate limit and bad input get coded answers; the socket stays open', () =>
      withCluster(makeBackends, async (c) => {
        const ann = await c.join(0, 'ann');
        const bob = await c.join(1, 'bob');
        const [annId, bobId] = [await c.account('ann'), await c.account('bob')];
        assert.deepEqual(await bob.block(annId), [annId]);
        await assert.rejects(ann.say('private', 'hello?', bobId), rejectsWith(ErrorCodes.CHAT_ERR_BLOCKED));
        assert.deepEqual(await bob.block(''), [annId], 'an empty id lists');
        assert.deepEqual(await bob.block(annId, false), []);
        await ann.say('private', 'hello!', bobId);
        await assert.rejects(bob.block(bobId), rejectsWith(ErrorCodes.CHAT_ERR_REFUSED));

        await assert.rejects(ann.say('world', 'buy spam now'), rejectsWith(ErrorCodes.CHAT_ERR_REFUSED), 'dropped by the moderation hook');
        await assert.rejects(ann.say('world', 'x'.repeat(51)), rejectsWith(ErrorCodes.CHAT_ERR_TOO_LONG));
        await assert.rejects(ann.say('world', '\u0000\u202E\t'), rejectsWith(ErrorCodes.CHAT_ERR_EMPTY));
        await assert.rejects(ann.say('shout', 'hi'), rejectsWith(ErrorCodes.OPT_ERR_INVALID));
        await assert.rejects(ann.say('world', 'hi', bobId), rejectsWith(ErrorCodes.OPT_ERR_INVALID));
        await assert.rejects(ann.say('private', 'me', annId), rejectsWith(ErrorCodes.CHAT_ERR_REFUSED));
        await assert.rejects(ann.history('world', 1000), rejectsWith(ErrorCodes.OPT_ERR_INVALID));
        await assert.rejects(ann.history('world', 5, '"; FLUSHALL'), rejectsWith(ErrorCodes.OPT_ERR_INVALID));
        // Not a ChatSayReq at all, and a text that is not UTF-8: the codec refuses both.
        await assert.rejects(ann.request(CORE_ROUTE.chatSay, new Uint8Array([1, 2, 3])), rejectsWith(ErrorCodes.SCH_ERR_BAD_PAYLOAD));
        const good = ChatSayReqCodec.encode({ channel: 'world', to: '', text: 'abc' });
        const broken = good.slice();
        const at = Buffer.from(broken).indexOf('abc');
        broken[at] = 0xff;
        await assert.rejects(ann.request(CORE_ROUTE.chatSay, broken), rejectsWith(ErrorCodes.SCH_ERR_BAD_PAYLOAD));

        await c.backends[0].mute(annId, Date.now() + 60_000);
        await assert.rejects(ann.say('world', 'let me talk'), rejectsWith(ErrorCodes.CHAT_ERR_MUTED));
        await c.backends[1].mute(annId, 0);

        // Past the rate (5 a second, 8 at once): refused, and the socket is still open.
        const outcomes = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => bob.say('world', `line ${i}`)));
        assert.ok(outcomes.some((o) => o.status === 'rejected' && rejectsWith(ErrorCodes.CHAT_ERR_RATE_LIMITED)(o.reason)), 'some refused for the rate');
        assert.ok(outcomes.filter((o) => o.status === 'fulfilled').length >= 8);
        assert.equal(bob.ws.readyState, WebSocket.OPEN);
        assert.equal(ann.ws.readyState, WebSocket.OPEN);
      }));
  });
}

test('chat through gateways on Redis: each line crosses Redis once, whatever the number of gateways and listeners', async () => {
  const keyPrefix = `gos-test-gw-chat1-${randomBytes(4).toString('hex')}:`;
  const spy = new Redis(redisUrl);
  const crossed: Buffer[] = [];
  await spy.subscribe(`${keyPrefix}fanout`);
  spy.on('messageBuffer', (_channel: Buffer, message: Buffer) => crossed.push(message));
  try {
    await withCluster(
      async () => {
        const pair: [ChatBackend, ChatBackend] = [new RedisChatBackend({ url: redisUrl, keyPrefix }), new RedisChatBackend({ url: redisUrl, keyPrefix })];
        for (const b of pair) await b.start();
        return pair;
      },
      async (c) => {
        const listeners = [await c.join(0, 'l1'), await c.join(0, 'l2'), await c.join(1, 'l3'), await c.join(1, 'l4')];
        const before = crossed.length;
        for (let i = 0; i < 5; i++) await listeners[0]!.say('world', `line ${i}`);
        await waitFor(() => listeners.every((l) => l.heard.length === 5) || undefined, { timeoutMs: 5000, message: 'every listener hearing every line' });
        assert.equal(crossed.length - before, 5, 'one Redis message a line, for 2 gateways and 4 sockets');
      },
    );
  } finally {
    spy.disconnect();
  }
});
