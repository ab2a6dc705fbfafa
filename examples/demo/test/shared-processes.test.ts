/**
 * Shared world data with real processes on real etcd, Redis and MariaDB: the demo's guild index
 * (a service, owner of the shared table `guilds`) is written as guilds are founded, and a map on
 * another engine reads the new guilds from its local copy soon after, with no call.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readStatus } from '@gos/cluster';
import { waitFor } from '@gos/testing';
import { guestPlayer, loadPublished, testCluster } from './cluster-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
after(async () => {
  await cluster.cleanup();
});

/**
 * Between two requests of a poll: 10 a second stays well under the gateway's frame budget (60 a
 * second sustained); polling at waitFor's default (10 ms) got the socket closed with
 * GW_ERR_RATE_LIMITED when the index took more than two seconds on a slow CI machine.
 */
const POLL_MS = 100;

/**
 * A small CCU cap: a scene and its players weigh enough that the next scene goes to the other
 * engine. The leader's score adds each engine's thread utilisation (0–1), which on a busy CI
 * machine can differ by more than 0.1: at a cap of 10, one scene (weight 10) outweighs it.
 */
const ENGINE_ENV = { GOS_ENGINE_CAPACITY: '10' };

test('a guild founded through a service on one engine shows in the shared guild list a map of another engine reads', { timeout: 120_000 }, async () => {
  cluster.start('coordinator', 'coordinator-1');
  cluster.start('engine', 'engine-1', ENGINE_ENV);
  cluster.start('engine', 'engine-2', ENGINE_ENV);
  await Promise.all(cluster.members.map((m) => m.ready));
  const baseUrl = String((await cluster.start('gateway', 'gateway-1').ready)['http']);
  const [a, b] = [await guestPlayer(baseUrl), await guestPlayer(baseUrl)];
  await loadPublished(cluster.config, 'world:1', 2);
  // b reads from world:2, placed on the engine world:1 is not on.
  const changed = new Promise<void>((resolve) => b.client.onPush('SceneChanged', () => resolve()));
  await b.api.travel({ sceneId: 'world:2', x: 100, y: 100 });
  await changed;
  const placements = (await readStatus(cluster.config)).placements;
  const host = (id: string): string | undefined => placements.find((p) => p.sceneId === id)?.engineId;
  assert.notEqual(host('world:1'), host('world:2'), 'the two maps on two engines');

  const guild = `s${Date.now().toString(36)}`;
  const founded = Date.now();
  assert.deepEqual(await a.api.guildJoin({ guild }), { guild, members: 1 });
  // Looked up by name: the shared database may hold larger guilds of other runs.
  const seen = await waitFor(async () => (await b.api.guildList({ guild })).guilds.find((g) => g.guild === guild), { timeoutMs: 10_000, message: "the new guild in the other map's copy", intervalMs: POLL_MS });
  console.log(`the guild index's write was read on the other engine ${Date.now() - founded} ms after the join`);
  assert.equal(seen.members, 1);
  assert.deepEqual(await b.api.guildJoin({ guild }), { guild, members: 2 });
  await waitFor(async () => (await a.api.guildList({ guild })).guilds[0]?.members === 2, { timeoutMs: 10_000, message: 'two members in the list', intervalMs: POLL_MS });
  await a.client.close();
  await b.client.close();
});
