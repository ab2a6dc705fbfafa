/**
 * The demo's chat (docs/chat.md) through the SDK's ChatClient on the embedded cluster: lines on
 * the world and the map reach who hears them, the demo's moderation masks and drops, a private
 * line to a player who is offline reaches it when it comes, and a blocked player's lines are
 * refused (private) or hidden (shared channels).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { ChatClient, GameClient, login } from '@gos/client';
import { protocol } from '../src/generated/protocol.js';
import { isCodedError, type ChatMessage } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { joinAs, startCluster, tempDir, uniqueName, type Player } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

const code = (c: string) => (err: unknown) => isCodedError(err) && err.code === c;

/** A player with its chat, keeping the lines it hears. */
async function chatter(url: string, name: string, registerFirst = true): Promise<{ p: Player; chat: ChatClient; heard: ChatMessage[] }> {
  const p = await joinAs(url, name, undefined, registerFirst);
  const chat = new ChatClient(p.client);
  const heard: ChatMessage[] = [];
  chat.onLine((line) => heard.push(line));
  // In its map (a scene's answer): it hears the map's channel from here on.
  await p.api.whoami({});
  return { p, chat, heard };
}

test('embedded: world and map lines, moderation, private lines held for an offline player, blocking', async () => {
  const cluster = await startCluster(join(dir.path, 'chat.db'));
  const closing: Array<Pick<Player, 'client'>> = [];
  try {
    const [annName, bobName, cidName] = [uniqueName('chata'), uniqueName('chatb'), uniqueName('chatc')];
    const ann = await chatter(cluster.url, annName);
    const bob = await chatter(cluster.url, bobName);
    closing.push(ann.p, bob.p);
    // Both start on the same map (the demo's default): they hear each other's map lines.
    const said = await ann.chat.say('scene', 'oh darn, hello');
    assert.equal(said.text, 'oh ****, hello', "the demo's moderation masks");
    await ann.chat.say('world', 'hello everyone');
    await waitFor(() => bob.heard.length >= 2 || undefined, { message: "bob hearing ann's lines" });
    assert.deepEqual(
      bob.heard.map((l) => [l.channel.split(':')[0], l.name, l.text]),
      [
        ['scene', annName, 'oh ****, hello'],
        ['world', annName, 'hello everyone'],
      ],
    );
    assert.deepEqual((await bob.chat.history('world')).map((l) => l.text).slice(-1), ['hello everyone']);
    // A line with a link is dropped by the demo's moderation (each player may say 5 lines at once, 1 a second).
    await assert.rejects(bob.chat.say('world', 'visit www.spam.example'), code('CHAT_ERR_REFUSED'));

    // A private line to a player who has not connected yet: it gets it as it connects.
    const cidAccount = await (await fetch(`${cluster.url}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: cidName, password: 'correct-horse-1' }) })).json() as { accountId: string };
    await ann.chat.say('private', 'welcome, cid', cidAccount.accountId);
    // Its chat listens before it connects: held lines come as the socket is accepted.
    const auth = await login(cluster.url, cidName, 'correct-horse-1');
    const cidClient = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket, reconnect: { enabled: false } });
    const cid = { chat: new ChatClient(cidClient), heard: [] as ChatMessage[] };
    cid.chat.onLine((line) => cid.heard.push(line));
    await cidClient.connect();
    closing.push({ client: cidClient });
    await waitFor(() => cid.heard.find((l) => l.text === 'welcome, cid'), { message: 'the held private line' });

    // Blocking: ann's private lines to bob are refused, her lines elsewhere hidden from him.
    assert.deepEqual(await bob.chat.block(ann.p.accountId), [ann.p.accountId]);
    await assert.rejects(ann.chat.say('private', 'hi bob', bob.p.accountId), code('CHAT_ERR_BLOCKED'));
    const before = bob.heard.length;
    await ann.chat.say('world', 'can you hear me');
    await cid.chat.say('world', 'cid here');
    await waitFor(() => bob.heard.find((l) => l.text === 'cid here'), { message: "bob hearing cid's line" });
    assert.deepEqual(bob.heard.slice(before).map((l) => l.text), ['cid here'], "ann's line is hidden from bob");
    assert.deepEqual(await bob.chat.unblock(ann.p.accountId), []);
  } finally {
    for (const p of closing) await p.client.close();
    await cluster.close();
  }
});
