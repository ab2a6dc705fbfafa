/**
 * Every role's metrics, scraped from the embedded cluster's gateway (`GET /metrics`): the
 * documented names are there, and the counters move with play. The cluster process tests
 * scrape the separate roles' metrics ports.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCodes, type RouteDef } from '@gos/schema';
import { waitFor } from '@gos/testing';
import type { EmbeddedCluster } from '../src/index.js';
import { WhoAmIReqCodec, type WhoAmIReq } from '../src/generated/protocol.js';
import { joinAs, startCluster, tempDir, uniqueName } from './helpers.js';
import { metricValue, scrape } from './metrics-helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let cluster: EmbeddedCluster;

before(async () => {
  dir = await tempDir();
  cluster = await startCluster(join(dir.path, 'metrics.db'));
});
after(async () => {
  await cluster.close();
  await dir.remove();
});

const NO_SUCH_ROUTE: RouteDef<WhoAmIReq, void> = Object.freeze({ id: 9999, name: 'noSuchRoute', scene: 'world', request: WhoAmIReqCodec, response: null, idempotent: false });

test('GET /metrics: gateway, engine, scene, persister and coordinator metrics, moving with play', async () => {
  const before = await scrape(cluster.url);
  const p = await joinAs(cluster.url, uniqueName('metric'));
  await p.api.whoami({});
  await p.api.move({ seq: 1, x: 10, y: 10 });
  await assert.rejects(p.client.request(NO_SUCH_ROUTE, {}), { code: ErrorCodes.GW_ERR_UNKNOWN_ROUTE });
  // Ticks are reported about once a second, saves every persistIntervalMs (200 ms here).
  await waitFor(async () => (metricValue(await scrape(cluster.url), 'gos_scene_tick_duration_seconds_count', { scene_type: 'world' }) ?? 0) > 0, { timeoutMs: 5000, message: 'tick figures' });
  await waitFor(async () => (metricValue(await scrape(cluster.url), 'gos_persister_writes_total', { result: 'ok' }) ?? 0) > 0, { timeoutMs: 5000, message: 'a save' });
  const m = await scrape(cluster.url);

  assert.equal(metricValue(m, 'gos_gateway_connections'), 1);
  assert.ok(metricValue(m, 'gos_gateway_frames_in_total', { kind: 'request' })! >= 3);
  assert.ok(metricValue(m, 'gos_gateway_frames_out_total', { kind: 'response' })! >= 2);
  assert.ok((metricValue(m, 'gos_gateway_frames_out_total', { kind: 'broadcast' }) ?? 0) > (metricValue(before, 'gos_gateway_frames_out_total', { kind: 'broadcast' }) ?? 0));
  assert.equal(metricValue(m, 'gos_gateway_errors_total', { code: 'GW_ERR_UNKNOWN_ROUTE' }), 1);
  assert.equal(metricValue(m, 'gos_gateway_request_duration_seconds_count', { route: 'whoami' }), 1);
  assert.equal(metricValue(m, 'gos_gateway_request_duration_seconds_count', { route: 'move' }), 1);
  assert.equal(metricValue(m, 'gos_gateway_placement_wait_seconds_count', { result: 'placed' }), 1);
  assert.equal(metricValue(m, 'gos_gateway_link_up', { engine: 'engine-1' }), 1);
  assert.notEqual(metricValue(m, 'gos_gateway_link_queued_bytes', { engine: 'engine-1' }), undefined);

  assert.equal(metricValue(m, 'gos_engine_players'), 1);
  assert.equal(metricValue(m, 'gos_engine_scenes', { scene_type: 'world' }), 1);
  assert.notEqual(metricValue(m, 'gos_engine_ring_queued_bytes', { scene: 'world:1' }), undefined);
  assert.notEqual(metricValue(m, 'gos_engine_link_queued_bytes', { gateway: 'gateway-1' }), undefined);
  assert.ok(metricValue(m, 'gos_persister_batch_rows_count')! > 0);
  assert.ok(metricValue(m, 'gos_persister_batch_duration_seconds_count')! > 0);
  assert.equal(metricValue(m, 'gos_persister_batch_failures_total'), 0);

  assert.equal(metricValue(m, 'gos_coordinator_leader'), 1);
  assert.equal(metricValue(m, 'gos_coordinator_placements_total', { result: 'placed' }), 1);
  assert.equal(metricValue(m, 'gos_cluster_members', { role: 'engine' }), 1);
  assert.equal(metricValue(m, 'gos_cluster_members', { role: 'gateway' }), 1);
  assert.equal(metricValue(m, 'gos_cluster_placements'), 1);

  await p.client.close();
  await waitFor(async () => metricValue(await scrape(cluster.url), 'gos_gateway_connections') === 0, { timeoutMs: 3000, message: 'the socket to close' });
});
