/**
 * The demo's guild service and whispers on the embedded cluster: a guild is a service players
 * join from any map; its lines reach every online member on any map; whispers reach a player
 * on the other map; bad guild names and whispers are coded errors.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitFor } from '@gos/testing';
import { joinAs, startCluster, tempDir, uniqueName } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

test('guilds: join from two maps, lines reach every online member, moving guilds leaves the old one; bad input is coded', async () => {
  const cluster = await startCluster(join(dir.path, 'guild.db'));
  try {
    const a = await joinAs(cluster.url, uniqueName('ga'));
    const b = await joinAs(cluster.url, uniqueName('gb'));
    const lines = { a: [] as string[], b: [] as string[] };
    a.client.onPush('GuildLine', (l) => lines.a.push(`${l.guild}/${l.from}: ${l.text}`));
    b.client.onPush('GuildLine', (l) => lines.b.push(`${l.guild}/${l.from}: ${l.text}`));
    // b on the other map.
    await b.api.travel({ sceneId: 'world:2', x: 500, y: 500 });
    await waitFor(async () => (await b.api.whoami({})).sceneId === 'world:2', { timeoutMs: 5000, message: 'b in world:2', intervalMs: 50 });

    await assert.rejects(a.api.guildSay({ text: 'anyone?' }), { code: 'DEMO_ERR_NOT_IN_GUILD' });
    assert.deepEqual(await a.api.guildJoin({ guild: 'Knights' }), { guild: 'Knights', members: 1 });
    assert.deepEqual(await b.api.guildJoin({ guild: 'Knights' }), { guild: 'Knights', members: 2 });
    assert.deepEqual(await a.api.guildJoin({ guild: 'Knights' }), { guild: 'Knights', members: 2 }, 'joining again changes nothing');
    // Each join is in the player's log (docs/player-logs.md), written to the store off the tick.
    await waitFor(async () => (await cluster.store.playerLogs.query({ playerId: b.accountId, event: 'guild.join', limit: 10 })).length === 1, { timeoutMs: 5000, message: "b's guild.join in its log" });
    const [joined] = await cluster.store.playerLogs.query({ playerId: b.accountId, event: 'guild.join', limit: 10 });
    assert.deepEqual([joined?.sceneId, JSON.parse(joined?.fields ?? 'null')], ['world:2', { guild: 'Knights', members: 2 }]);
    assert.deepEqual(await a.api.guildSay({ text: 'to arms' }), { reached: 2 });
    await waitFor(() => lines.a.length === 1 && lines.b.length === 1, { timeoutMs: 5000, message: 'the line on both maps' });
    assert.deepEqual(lines.b, [`Knights/${a.username}: to arms`]);

    // Every map reads the guild sizes from the shared table the guild index writes.
    const list = async (p: typeof a): Promise<string[]> => (await p.api.guildList({ guild: '' })).guilds.map((g) => `${g.guild}:${g.members}`);
    await waitFor(async () => (await list(b)).includes('Knights:2'), { timeoutMs: 5000, message: 'the Knights in the shared guild list' });

    // b moves to another guild: the Knights no longer reach it.
    assert.deepEqual(await b.api.guildJoin({ guild: 'Rogues' }), { guild: 'Rogues', members: 1 });
    await waitFor(async () => (await a.api.guildSay({ text: 'still here?' })).reached === 1, { timeoutMs: 5000, message: 'b out of the Knights', intervalMs: 50 });
    await waitFor(async () => JSON.stringify(await list(a)) === JSON.stringify(['Knights:1', 'Rogues:1']), { timeoutMs: 5000, message: 'the list after the move' });
    assert.deepEqual(await a.api.guildList({ guild: 'Rogues' }), { guilds: [{ guild: 'Rogues', members: 1 }] });
    assert.deepEqual(await a.api.guildList({ guild: 'Nobody' }), { guilds: [] });

    // A rally: a durable timer of the guild service, heard by its online members when due.
    const rallied: string[] = [];
    a.client.onPush('GuildLine', (l) => l.from === 'rally' && rallied.push(l.text));
    const { dueAt } = await a.api.guildRally({ delayMs: 200 });
    assert.ok(dueAt > Date.now() - 1000);
    await waitFor(() => rallied.length === 1, { timeoutMs: 5000, message: 'the rally' });
    assert.match(rallied[0]!, new RegExp(`called by ${a.username}`));
    await assert.rejects(a.api.guildRally({ delayMs: 3_600_001 }), { code: 'DEMO_ERR_BAD_RALLY' });

    // Whispers cross maps too.
    assert.deepEqual(await a.api.whisper({ to: b.accountId, text: 'psst' }), { delivered: true });

    // Bad input: coded errors, the guild and the maps go on.
    for (const guild of ['', 'x'.repeat(25), "K' OR 1=1; --", 'a:b', '../etc', 'Knights\u0000']) {
      await assert.rejects(a.api.guildJoin({ guild }), { code: 'DEMO_ERR_BAD_GUILD' }, JSON.stringify(guild));
    }
    await assert.rejects(a.api.whisper({ to: '', text: 'x' }), { code: 'DEMO_ERR_BAD_WHISPER' });
    await assert.rejects(a.api.whisper({ to: b.accountId, text: '\u0007\u202e' }), { code: 'DEMO_ERR_BAD_WHISPER' });
    assert.deepEqual(await a.api.whisper({ to: 'x'.repeat(100), text: 'hi' }), { delivered: false });
    assert.deepEqual(await a.api.guildSay({ text: 'still standing' }), { reached: 1 });
    await a.client.close();
    await b.client.close();
  } finally {
    await cluster.close();
  }
});
