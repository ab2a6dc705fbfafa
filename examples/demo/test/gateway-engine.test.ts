/**
 * The fat process, with real processes on real etcd, Redis and MariaDB: a `gateway+engine`
 * member runs a gateway and an engine linked in-process. Its own players' frames never cross a
 * socket between them; a separate gateway in the same cluster still reaches that engine over
 * TCP. Also how `gos-member` picks its role, and the configurations it refuses.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { BIN_ENTRY, readStatus } from '@gos/cluster';
import { guest } from '@gos/client';
import { connectAs, guestPlayer, runNode, testCluster } from './cluster-helpers.js';
import { metricValue, scrape } from './metrics-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 1000 });
after(() => cluster.cleanup());

const forwarded = async (baseUrl: string, transport: 'tcp' | 'in-process'): Promise<number> =>
  metricValue(await scrape(baseUrl), 'gos_gateway_frames_forwarded_total', { transport }) ?? 0;

test('gateway+engine: its players play through the in-process link; a separate gateway reaches its engine over TCP', { timeout: 120_000 }, async () => {
  await cluster.start('coordinator', 'coordinator-1').ready;
  const fat = cluster.start('gateway+engine', 'fat-1');
  const ready = await fat.ready;
  assert.equal(ready['gatewayId'], 'fat-1');
  assert.equal(ready['engineId'], 'fat-1-engine');
  const fatUrl = String(ready['http']);

  const player = await guestPlayer(fatUrl);
  let last = await player.api.move({ seq: 1, x: 1, y: 2 });
  for (let seq = 2; seq <= 20; seq++) last = await player.api.move({ seq, x: seq, y: 2 * seq });
  const me = await player.api.whoami({});
  assert.deepEqual([me.x, me.y], [last.x, last.y], 'moves applied by the engine beside the gateway');
  assert.ok((await forwarded(fatUrl, 'in-process')) >= 21, 'its frames went in-process');
  assert.equal(await forwarded(fatUrl, 'tcp'), 0, 'none over TCP');

  const status = await readStatus(cluster.config);
  const ids = status.members.map((m) => `${m.role}:${m.id}`).sort();
  assert.deepEqual(ids, ['coordinator:coordinator-1', 'engine:fat-1-engine', 'gateway:fat-1']);
  assert.equal(status.placements.find((p) => p.sceneId === 'world:1')?.engineId, 'fat-1-engine');

  // A gateway of its own. Login through it sends the player beside the scene's engine...
  const gateway = cluster.start('gateway', 'gateway-1');
  const gatewayReady = await gateway.ready;
  const gatewayUrl = String(gatewayReady['http']);
  const auth = await guest(gatewayUrl);
  assert.deepEqual(auth.gateways, [String(ready['ws']), String(gatewayReady['ws'])], 'the fat process first: its engine hosts world:1');
  // ...and a player who connects to it anyway plays on that engine over TCP.
  const other = await connectAs({ ...auth, gateway: String(gatewayReady['ws']) });
  const moved = await other.api.move({ seq: 1, x: 7, y: 8 });
  const them = await other.api.whoami({});
  assert.deepEqual([them.x, them.y], [moved.x, moved.y]);
  assert.ok((await forwarded(gatewayUrl, 'tcp')) >= 2, 'the separate gateway forwards over TCP');
  assert.equal(await forwarded(gatewayUrl, 'in-process'), 0);
  assert.deepEqual([...player.closes, ...other.closes], []);
  await other.client.close();
  await player.client.close();
});

test('gos-member runs the role the config names (GOS_ROLE), with --id naming its members', { timeout: 60_000 }, async () => {
  const member = cluster.start('engine', 'engine-9', { GOS_ROLE: 'engine' }, { viaMember: true });
  const ready = await member.ready;
  assert.equal(ready['role'], 'engine');
  assert.equal(ready['id'], 'engine-9');
  assert.equal(await member.stop(), 0);
});

test('gos-member: the role comes from --role or the config; a missing or unknown role, or one id for both members, exits 2', { timeout: 60_000 }, async () => {
  const env = { ...process.env, GOS_CONFIG: cluster.configFile, LOG_FORMAT: 'json' };
  const noRole = await runNode([BIN_ENTRY.member], env);
  assert.equal(noRole.code, 2);
  assert.match(noRole.stderr, /gos-member: no role: give --role/);
  const bogus = await runNode([BIN_ENTRY.member, '--role', 'router'], env);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /--role must be one of coordinator, engine, gateway, gateway\+engine, got "router"/);
  const badEnv = await runNode([BIN_ENTRY.member], { ...env, GOS_ROLE: 'router' });
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /role: must be one of .* \(from GOS_ROLE="router"\)/);
  const sameId = await runNode([BIN_ENTRY['gateway+engine']], { ...env, GOS_GATEWAY_ID: 'node-1', GOS_ENGINE_ID: 'node-1' });
  assert.equal(sameId.code, 2);
  assert.match(sameId.stderr, /gateway\.id and engine\.id must differ/);
  const wrongEntry = await runNode([BIN_ENTRY.gateway, '--role', 'engine'], env);
  assert.equal(wrongEntry.code, 2);
  assert.match(wrongEntry.stderr, /--role is for gos-member/);
});
