/**
 * A service's single activation with real processes on real etcd, Redis and MariaDB: the engine
 * hosting the demo's `guild:<name>` service is paused (SIGSTOP) past its lease while a member's
 * call starts another activation on the other engine from the last save; resumed (SIGCONT), the
 * paused activation's late write is refused, it stops serving, and callers keep being answered
 * by the new one.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { createStore } from '@gos/store';
import { waitFor } from '@gos/testing';
import { guestPlayer, loadPublished, testCluster } from './cluster-helpers.js';

const MYSQL = process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';
// A slow periodic save: the test waits for one, then makes a change that stays unsaved until well after the pause.
const PERSIST_MS = 5000;
const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: PERSIST_MS });
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

async function hostOf(id: string): Promise<string | undefined> {
  return (await readStatus(cluster.config)).placements.find((p) => p.sceneId === id)?.engineId;
}

interface GuildRow {
  members: Record<string, string>;
  lines: number;
}

test('a service paused past its lease: one activation at a time, the late write refused, callers answered by the new one', { timeout: 150_000 }, async () => {
  cluster.start('coordinator', 'coordinator-1');
  const engines = [cluster.start('engine', 'engine-1', ENGINE_ENV), cluster.start('engine', 'engine-2', ENGINE_ENV)];
  await Promise.all(cluster.members.map((m) => m.ready));
  const baseUrl = String((await cluster.start('gateway', 'gateway-1').ready)['http']);
  const guild = `g${Date.now().toString(36)}`;
  const id = `guild:${guild}`;
  const [a, b, c] = [await guestPlayer(baseUrl), await guestPlayer(baseUrl), await guestPlayer(baseUrl)];
  // The guild goes where the published loads say: world:1's engine must have published its players.
  await loadPublished(cluster.config, 'world:1', 3);
  const heard: string[] = [];
  a.client.onPush('GuildLine', (l) => heard.push(l.text));

  // a and b found the guild; it is placed on the engine world:1 is not on.
  assert.deepEqual(await a.api.guildJoin({ guild }), { guild, members: 1 });
  assert.deepEqual(await b.api.guildJoin({ guild }), { guild, members: 2 });
  const [world, first] = [await hostOf('world:1'), await hostOf(id)];
  assert.ok(world !== undefined && first !== undefined && world !== first, `world:1 on ${String(world)}, ${id} on ${String(first)}: two engines`);
  assert.deepEqual(await a.api.guildSay({ text: 'one' }), { reached: 2 });
  await waitFor(() => heard.includes('one'), { timeoutMs: 5000, message: 'the first line' });
  const saved = async (): Promise<GuildRow | undefined> => (await store.loadScene(id))?.data as GuildRow | undefined;
  await waitFor(async () => (await saved())?.lines === 1, { timeoutMs: PERSIST_MS * 3, message: 'the periodic save of the guild', intervalMs: 20 });
  const paused = engines.find((e) => e.id === first)!;
  const other = engines.find((e) => e !== paused)!;

  // Right after that save, c joins: a change the first activation holds and has not saved
  // (its next save is PERSIST_MS away), then its engine is paused.
  assert.deepEqual(await c.api.guildJoin({ guild }), { guild, members: 3 });
  paused.signal('SIGSTOP');
  // Its placement is released once its lease expires; the next call places the guild anew, from the last save.
  await waitFor(async () => (await hostOf(id)) !== first, { timeoutMs: 20_000, message: `${id} released from the paused engine` });
  assert.deepEqual(await a.api.guildSay({ text: 'two' }), { reached: 2 }, 'a and b, not c: the new activation started from the last save');
  assert.equal(await hostOf(id), other.id, 'the new activation is on the other engine');

  // Resumed: the paused activation writes its unsaved state (three members) late; the store
  // refuses it. It stops serving, and calls keep reaching the new activation.
  paused.signal('SIGCONT');
  const refused = new RegExp(`\\[${paused.id}\\] write refused: (fenced, another engine owns these rows now|rows were written by another owner); dropped.* scenes=1`);
  await waitFor(() => refused.test(cluster.logs()), { timeoutMs: PERSIST_MS * 4, message: "the old activation's write refused" }).catch(() => {});
  assert.match(cluster.logs(), refused, `logs:\n${cluster.logs()}`);
  // The paused engine hosted nothing else: the scene it stops is the guild it lost.
  const stopped = `[${paused.id}] scene stopped`;
  await waitFor(() => cluster.logs().includes(stopped), { timeoutMs: 20_000, message: `${paused.id} to stop the activation it lost` }).catch(() => {});
  assert.ok(cluster.logs().includes(stopped), `logs:\n${cluster.logs()}`);
  assert.deepEqual(await b.api.guildSay({ text: 'three' }), { reached: 2 }, 'answered by the new activation');
  assert.equal(await hostOf(id), other.id);
  // The row holds what the new activation saved, never the paused one's third member.
  const row = await waitFor(async () => ((await saved())?.lines === 3 ? await saved() : undefined), { timeoutMs: PERSIST_MS * 3, message: "the new activation's save" });
  assert.deepEqual(Object.keys(row.members).sort(), [a.auth.accountId, b.auth.accountId].sort());
  for (const p of [a, b, c]) await p.client.close();
});
