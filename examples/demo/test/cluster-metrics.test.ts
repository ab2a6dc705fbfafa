/**
 * Metrics of a cluster of processes: every role serves `GET /metrics` (the gateway on its HTTP
 * port, engines and coordinators on their metrics port, logged at start), with the process
 * metrics and the role's own, and the figures follow play.
 */
import assert from 'node:assert/strict';
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
  // Only /metrics is served on the metrics port.
  assert.equal((await fetch(engineUrl.replace('/metrics', '/'))).status, 404);
  await player.client.close();
});
