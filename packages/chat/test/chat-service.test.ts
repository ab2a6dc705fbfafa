/**
 * The chat's rules on the memory backend: channels from the sender, cleaning and length, the
 * per-sender rate, mute, block, the moderation hook, private lines held for an offline player,
 * and history limited to the channels a player hears.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, isCodedError } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { ChatService, MemoryChatBackend, channelsOf, type ChatLine, type ChatSender, type ChatServiceOptions } from '../src/index.js';

const coded = (code: string) => (err: unknown) => isCodedError(err) && err.code === code;
const ann: ChatSender = { playerId: 'ann', name: 'Ann', groupId: 'guild-a', sceneId: 'world:1' };
const bob: ChatSender = { playerId: 'bob', name: 'Bob', groupId: null, sceneId: 'world:2' };

async function withChat(over: Partial<ChatServiceOptions>, fn: (chat: ChatService, published: Array<{ channel: string; line: ChatLine }>, players: Set<string>, backend: MemoryChatBackend) => Promise<void>): Promise<void> {
  const backend = new MemoryChatBackend();
  await backend.start();
  const published: Array<{ channel: string; line: ChatLine }> = [];
  const encoded = new Map<string, ChatLine>();
  await backend.subscribe((channel, frame) => published.push({ channel, line: encoded.get(new TextDecoder().decode(frame))! }));
  const players = new Set(['ann', 'bob', 'dan']);
  let now = 1_000_000;
  const chat = new ChatService({
    backend,
    encode: (line) => {
      encoded.set(line.id + line.channel, line);
      return new TextEncoder().encode(line.id + line.channel);
    },
    isPlayer: (id) => Promise.resolve(players.has(id)),
    now: () => (now += 10),
    ...over,
  });
  try {
    await fn(chat, published, players, backend);
  } finally {
    await backend.close();
  }
}

test('a line goes on the channel the sender names, cleaned, once, and into its history', () =>
  withChat({}, async (chat, published) => {
    const world = await chat.say(ann, { kind: 'world' }, '  hello\u202E evil\u0000 \n world ');
    assert.equal(world.channel, 'world');
    assert.equal(world.text, 'hello evil   world');
    assert.equal((await chat.say(ann, { kind: 'scene' }, 'here')).channel, 'scene:world:1');
    assert.equal((await chat.say(ann, { kind: 'group' }, 'guild')).channel, 'group:guild-a');
    assert.equal((await chat.say(ann, { kind: 'private', to: 'bob' }, 'psst')).channel, 'p:bob');
    await waitFor(() => published.length === 4 || undefined);
    assert.deepEqual(
      published.map((p) => [p.channel, p.line.text]),
      [
        ['world', 'hello evil   world'],
        ['scene:world:1', 'here'],
        ['group:guild-a', 'guild'],
        ['p:bob', 'psst'],
      ],
    );
    assert.deepEqual((await chat.history(ann, 'world', 10)).map((l) => l.text), ['hello evil   world']);
    assert.deepEqual((await chat.history(bob, 'p:bob', 10)).map((l) => [l.from, l.text]), [['ann', 'psst']]);
    // Only the channels a player hears.
    assert.deepEqual(channelsOf(bob), ['world', 'p:bob', 'scene:world:2']);
    await assert.rejects(chat.history(bob, 'group:guild-a', 10), coded(ErrorCodes.CHAT_ERR_REFUSED));
    await assert.rejects(chat.history(bob, 'p:ann', 10), coded(ErrorCodes.CHAT_ERR_REFUSED));
  }));

test('empty, too long, no group, to oneself: coded refusals that cost nothing', () =>
  withChat({ maxLength: 10 }, async (chat) => {
    await assert.rejects(chat.say(ann, { kind: 'world' }, ' \u0000\u202E\t '), coded(ErrorCodes.CHAT_ERR_EMPTY));
    await assert.rejects(chat.say(ann, { kind: 'world' }, 'x'.repeat(11)), coded(ErrorCodes.CHAT_ERR_TOO_LONG));
    assert.equal((await chat.say(ann, { kind: 'world' }, '𝄞'.repeat(10))).text, '𝄞'.repeat(10), 'code points, not UTF-16 units');
    await assert.rejects(chat.say(bob, { kind: 'group' }, 'hi'), coded(ErrorCodes.CHAT_ERR_NO_GROUP));
    await assert.rejects(chat.say(ann, { kind: 'private', to: 'ann' }, 'hi'), coded(ErrorCodes.CHAT_ERR_REFUSED));
    await assert.rejects(chat.say(ann, { kind: 'private', to: '' }, 'hi'), coded(ErrorCodes.OPT_ERR_INVALID));
    await assert.rejects(chat.say({ ...ann, sceneId: null }, { kind: 'scene' }, 'hi'), coded(ErrorCodes.CHAT_ERR_REFUSED));
  }));

test('a sender past its rate is refused until its bucket refills; others are not', () => {
  let now = 0;
  return withChat({ rate: { perSecond: 2, burst: 3 }, monotonicNow: () => now }, async (chat) => {
    for (let i = 0; i < 3; i++) await chat.say(ann, { kind: 'world' }, `line ${i}`);
    await assert.rejects(chat.say(ann, { kind: 'world' }, 'one too many'), coded(ErrorCodes.CHAT_ERR_RATE_LIMITED));
    await chat.say(bob, { kind: 'world' }, 'bob is fine');
    now += 499;
    await assert.rejects(chat.say(ann, { kind: 'world' }, 'not yet'), coded(ErrorCodes.CHAT_ERR_RATE_LIMITED));
    now += 1;
    await chat.say(ann, { kind: 'world' }, 'refilled one');
  });
});

test('a muted player is refused until its mute ends; a blocked sender cannot send private lines', () =>
  withChat({ now: Date.now }, async (chat, _published, _online, backend) => {
    await backend.mute('ann', Date.now() + 300);
    await assert.rejects(chat.say(ann, { kind: 'world' }, 'hi'), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.CHAT_ERR_MUTED && /muted until/.test(err.message));
    // Once it ends, lines go through again.
    await waitFor(async () => (await backend.mutedUntil('ann')) === 0 || undefined, { message: 'the mute to end' });
    await chat.say(ann, { kind: 'world' }, 'back');
    assert.equal(await backend.block('bob', 'ann'), true);
    await assert.rejects(chat.say(ann, { kind: 'private', to: 'bob' }, 'let me in'), coded(ErrorCodes.CHAT_ERR_BLOCKED));
    // Blocking is about private lines; the world channel is filtered by the client (docs/chat.md).
    await chat.say(ann, { kind: 'world' }, 'still heard on the world channel');
    await chat.say(bob, { kind: 'private', to: 'ann' }, 'bob may still write');
  }));

test('the moderation hook rewrites or drops a line; a hook that throws drops it', () =>
  withChat(
    {
      moderate: ({ text }) => {
        if (text.includes('boom')) throw new Error('hook bug');
        if (text.includes('spam')) return null;
        return text.replaceAll('darn', '****');
      },
    },
    async (chat, published) => {
      assert.equal((await chat.say(ann, { kind: 'world' }, 'oh darn it')).text, 'oh **** it');
      await assert.rejects(chat.say(ann, { kind: 'world' }, 'buy spam'), coded(ErrorCodes.CHAT_ERR_REFUSED));
      await assert.rejects(chat.say(ann, { kind: 'world' }, 'boom'), coded(ErrorCodes.CHAT_ERR_REFUSED));
      await waitFor(() => published.length === 1 || undefined);
      assert.deepEqual((await chat.history(ann, 'world', 10)).map((l) => l.text), ['oh **** it'], 'dropped lines are not kept');
    },
  ));

test("a private line is published and held until its recipient's gateway says it got it; lines to no player are refused", () =>
  withChat({}, async (chat, published, players) => {
    const first = await chat.say(ann, { kind: 'private', to: 'dan' }, 'while you were away');
    const second = await chat.say(ann, { kind: 'private', to: 'dan' }, 'and another');
    await waitFor(() => published.length === 2 || undefined);
    // Dan's gateway had his socket for the second one: it is no longer held.
    assert.equal(await chat.delivered('dan', second.id), true);
    assert.equal(await chat.delivered('dan', second.id), false);
    const held = await chat.takeHeld('dan');
    assert.deepEqual(held.map((l) => [l.id, l.channel, l.from, l.text]), [[first.id, 'p:dan', 'ann', 'while you were away']]);
    assert.deepEqual(await chat.takeHeld('dan'), []);
    players.delete('dan');
    await assert.rejects(chat.say(ann, { kind: 'private', to: 'dan' }, 'gone?'), coded(ErrorCodes.CHAT_ERR_REFUSED));
    await assert.rejects(chat.say(ann, { kind: 'private', to: 'nobody-at-all' }, 'hello?'), coded(ErrorCodes.CHAT_ERR_REFUSED));
    assert.deepEqual(await chat.takeHeld('nobody-at-all'), [], 'nothing kept for an id that is no player');
  }));

test('a moderation hook that does not answer in time drops the line; it cannot change the line but its text', () =>
  withChat(
    {
      moderateTimeoutMs: 50,
      moderate: (line) => {
        if (line.text === 'slow') return new Promise<string>(() => undefined);
        try {
          (line as { channel: string }).channel = 'world';
        } catch {
          // frozen: as it should be
        }
        return line.text.toUpperCase();
      },
    },
    async (chat) => {
      await assert.rejects(chat.say(ann, { kind: 'world' }, 'slow'), coded(ErrorCodes.CHAT_ERR_REFUSED));
      const line = await chat.say(ann, { kind: 'scene' }, 'quiet');
      assert.deepEqual([line.channel, line.text], ['scene:world:1', 'QUIET']);
    },
  ));

test('bad options are refused at construction', () => {
  const backend = new MemoryChatBackend();
  const base = { backend, encode: () => new Uint8Array(0) };
  assert.throws(() => new ChatService({ ...base, rate: { perSecond: 0, burst: 1 } }), coded(ErrorCodes.OPT_ERR_INVALID));
  assert.throws(() => new ChatService({ ...base, maxLength: 0 }), coded(ErrorCodes.OPT_ERR_INVALID));
  assert.throws(() => new ChatService({ ...base, maxLength: 1001 }), coded(ErrorCodes.OPT_ERR_INVALID));
});
