/**
 * Gateway choice and gateway failover with real processes on real etcd, Redis and MariaDB:
 * login names the least-loaded gateway first and lists the others; a gateway killed with
 * SIGKILL sends its players' clients to another gateway with the same session, where they
 * resume in the same scene — one player each, nothing lost from the session.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { GameClient, guest, type GuestResult } from '@gos/client';
import { waitFor } from '@gos/testing';
import { createApi, protocol } from '../src/generated/protocol.js';
import { testCluster } from './cluster-helpers.js';
import { inward } from './helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 2, persistIntervalMs: 500 });
after(() => cluster.cleanup());

function play(auth: GuestResult) {
  const client = new GameClient({
    url: auth.gateway,
    fallbackUrls: (auth.gateways ?? []).slice(1),
    token: auth.token,
    protocol,
    WebSocket,
    reconnect: { minDelayMs: 50, maxDelayMs: 500 },
  });
  const opens: boolean[] = [];
  const snapshots: Array<readonly string[]> = [];
  client.on('open', (e) => opens.push(e.resumed));
  client.on('WorldSnapshot', (s) => snapshots.push(s.players.map((p) => p.id)));
  return { client, api: createApi(client), opens, snapshots };
}

test('login picks the least-loaded gateway; a gateway killed with SIGKILL: its players resume on another with their session', { timeout: 120_000 }, async () => {
  const coordinator = cluster.start('coordinator', 'coordinator-1');
  const engine = cluster.start('engine', 'engine-1');
  await Promise.all([coordinator.ready, engine.ready]);
  const gateways = [cluster.start('gateway', 'gateway-1'), cluster.start('gateway', 'gateway-2')];
  const [http1, http2] = (await Promise.all(gateways.map((g) => g.ready))).map((line) => String(line['http'])) as [string, string];
  const ws1 = `${http1.replace('http:', 'ws:')}/ws`;
  const ws2 = `${http2.replace('http:', 'ws:')}/ws`;

  // Both idle: each gateway names itself first, and lists the other.
  const authA = await guest(http1);
  assert.equal(authA.gateway, ws1);
  assert.deepEqual(authA.gateways, [ws1, ws2]);
  const a = play(authA);
  await a.client.connect();
  // gateway-1 now holds a socket: once its load is published, a login anywhere names gateway-2.
  const authB = await waitFor(
    async () => {
      const auth = await guest(http1);
      return auth.gateway === ws2 ? auth : undefined;
    },
    { timeoutMs: 5000, message: 'a login to name the least-loaded gateway (gateway-2) first', intervalMs: 100 },
  );
  assert.deepEqual(authB.gateways, [ws2, ws1]);
  const b = play(authB);
  await b.client.connect();
  const me = await a.api.whoami({});

  const killedAt = Date.now();
  gateways[0]!.signal('SIGKILL');
  await waitFor(() => a.opens.length >= 2, { timeoutMs: 15_000, message: 'player a to reconnect' });
  const resumedAfterMs = Date.now() - killedAt;
  assert.deepEqual(a.opens, [false, true], 'player a reconnected and resumed');
  console.log(`gateway-1 killed; its player resumed on gateway-2 ${resumedAfterMs} ms later`);

  // Same account, same scene, on gateway-2 now; one player each in the scene.
  const again = await a.api.whoami({});
  assert.equal(again.playerId, me.playerId);
  assert.equal(again.sceneId, me.sceneId);
  // Snapshots carry the players that changed: the one after the move has player a.
  const seen = b.snapshots.length;
  await a.api.move({ seq: 1, x: inward(me.x, 3), y: me.y });
  const latest = await waitFor(() => b.snapshots.slice(seen).find((ids) => ids.includes(me.playerId)), { timeoutMs: 5000, message: "player b's view to show player a's move" });
  assert.equal(latest.filter((id) => id === me.playerId).length, 1, `player a once in b's view: ${latest.join(', ')}`);
  assert.equal(new Set(latest).size, latest.length, 'no duplicate player');
  await Promise.all([a.client.close(), b.client.close()]);
});
