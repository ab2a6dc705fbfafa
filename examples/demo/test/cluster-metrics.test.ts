/**
 * Metrics of a cluster of processes: every role serves `GET /metrics` (the gateway on its HTTP
 * port, engines and coordinators on their metrics port, logged at start), with the process
 * metrics and the role's own, and the figures follow play.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { waitFor } from '@gos/testing';
import { guestPlayer, testCluster } from './cluster-helpers.js';
import { metricValue } from './metrics-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
after(() => cluster.cleanup());

async function scrapeUrl(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return res.text();
}

test('each role serves its metrics and the process metrics on GET /metrics', { timeout: 120_000 }, async () => {
  const { baseUrl } = await cluster.startRoles({ coordinators: 1, engines: 1 });
  const urlOf = async (id: string): Promise<string> => String((await cluster.members.find((m) => m.id === id)!.ready)['metrics']);
  const [coordinatorUrl, engineUrl, gatewayUrl] = await Promise.all([urlOf('coordinator-1'), urlOf('engine-1'), urlOf('gateway-1')]);
  assert.equal(gatewayUrl, `${baseUrl}/metrics`);

  const player = await guestPlayer(baseUrl);
  await player.api.whoami({});
  await waitFor(async () => metricValue(await scrapeUrl(engineUrl), 'gos_engine_players') === 1, { timeoutMs: 10_000, message: 'the engine to count the player' });

  const gateway = await scrapeUrl(gatewayUrl);
  assert.equal(metricValue(gateway, 'gos_gateway_connections'), 1);
  assert.equal(metricValue(gateway, 'gos_gateway_request_duration_seconds_count', { route: 'whoami' }), 1);
  const engine = await scrapeUrl(engineUrl);
  assert.equal(metricValue(engine, 'gos_engine_scenes', { scene_type: 'world' }), 1);
  const coordinator = await scrapeUrl(coordinatorUrl);
  assert.equal(metricValue(coordinator, 'gos_coordinator_leader'), 1);
  assert.equal(metricValue(coordinator, 'gos_coordinator_placements_total', { result: 'placed' }), 1);
  assert.equal(metricValue(coordinator, 'gos_cluster_members', { role: 'engine' }), 1);
  for (const [role, text] of [['gateway', gateway], ['engine', engine], ['coordinator', coordinator]] as const) {
    assert.ok((metricValue(text, 'gos_process_cpu_seconds_total') ?? 0) > 0, `${role}: process CPU`);
    assert.ok((metricValue(text, 'gos_process_resident_memory_bytes') ?? 0) > 0, `${role}: process RSS`);
  }
  // Every member holds its lease (a pause past the TTL would show as lost, and count).
  for (const [role, text] of [['gateway', gateway], ['engine', engine], ['coordinator', coordinator]] as const) {
    assert.equal(metricValue(text, 'gos_member_lease_held'), 1, `${role}: lease held`);
    assert.equal(metricValue(text, 'gos_member_lease_lost'), 0, `${role}: no lease lost`);
    assert.equal(metricValue(text, 'gos_member_lease_losses_total'), 0, `${role}: no lease lost since the start`);
  }
  // docs/metrics.md names what the roles register, no more and no less (the process metrics
  // aside, of which it names a few).
  const registered = new Set([gateway, engine, coordinator].flatMap((text) => [...text.matchAll(/^# TYPE (gos_\w+) /gm)].map((m) => m[1]!)));
  const docs = await readFile(new URL('../../../../docs/metrics.md', import.meta.url), 'utf8');
  const documented = new Set(docs.split('\n').filter((line) => line.startsWith('| `gos_')).flatMap((line) => [...line.split('|')[1]!.matchAll(/`(gos_\w+)`/g)].map((m) => m[1]!)));
  assert.ok(documented.size >= 30, `docs/metrics.md names ${documented.size} metrics`);
  assert.deepEqual([...documented].filter((name) => !registered.has(name)), [], 'documented, not registered by any role');
  const ownNames = [...registered].filter((name) => !/^gos_(process|nodejs)_/.test(name));
  assert.deepEqual(ownNames.filter((name) => !documented.has(name)), [], 'registered, not documented');
  // Only /metrics is served on the metrics port.
  assert.equal((await fetch(engineUrl.replace('/metrics', '/'))).status, 404);
  await player.client.close();
});
