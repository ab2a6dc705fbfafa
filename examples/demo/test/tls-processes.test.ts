/**
 * TLS with role processes (bin/coordinator, bin/engine, bin/gateway) on the test command's etcd,
 * Redis and MariaDB, configured by GOS_* variables, with a throw-away CA made at test time
 * (openssl, scripts/make-certs.sh): a gateway serves wss and reloads its certificate on SIGHUP
 * without dropping players, keeps the old one when the new files are broken, and refuses to
 * start on files it cannot use; the links run over TLS with the cluster CA, and a gateway whose
 * link certificate another CA signed gets no engine.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, test } from 'node:test';
import { CloseCode } from '@gos/schema';
import { GameClient, guest } from '@gos/client';
import { waitFor } from '@gos/testing';
import { createApi, protocol } from '../src/generated/protocol.js';
import { fetchTrusting, webSocketTrusting } from '../src/index.js';
import { makeCa } from './certs.js';
import { testCluster } from './cluster-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 3, persistIntervalMs: 1000 });
const certs = makeCa(['gateway', 'renewed', 'engine', 'gateway-link']);
const rogue = makeCa(['gateway-link']);
after(async () => {
  await cluster.cleanup();
  certs.remove();
  rogue.remove();
});
const ca = certs.read('ca.pem');
const live = { cert: path.join(cluster.dir, 'gateway.pem'), key: path.join(cluster.dir, 'gateway.key') };
function install(cert: string, key: string): void {
  copyFileSync(certs.file(`${cert}.pem`), live.cert);
  copyFileSync(certs.file(`${key}.key`), live.key);
}
install('gateway', 'gateway');

/** cluster.tls from the environment: each process its own certificate. */
const linkEnv = (authority: typeof certs, name: string): Record<string, string> => ({
  GOS_CLUSTER_TLS_CA_FILE: certs.file('ca.pem'),
  GOS_CLUSTER_TLS_CERT_FILE: authority.file(`${name}.pem`),
  GOS_CLUSTER_TLS_KEY_FILE: authority.file(`${name}.key`),
});
const gatewayEnv = { ...linkEnv(certs, 'gateway-link'), GOS_GATEWAY_TLS_CERT_FILE: live.cert, GOS_GATEWAY_TLS_KEY_FILE: live.key };

/** A guest over https, connected over wss to `wsUrl` (default: what login hands out). */
async function player(baseUrl: string, wsUrl?: string) {
  const auth = await guest(baseUrl, { fetch: fetchTrusting(ca) });
  const client = new GameClient({ url: wsUrl ?? auth.gateway, token: auth.token, protocol, WebSocket: webSocketTrusting(ca), reconnect: false });
  const closes: string[] = [];
  client.on('close', (e) => closes.push(`${e.code} ${e.reason}`));
  const seen = new Map<string, number>();
  client.onPush('WorldSnapshot', (s) => s.players.forEach((p) => seen.set(p.id, p.x)));
  await client.connect();
  return { client, api: createApi(client), accountId: auth.accountId, closes, seen };
}

function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const logged = (text: string): boolean => cluster.logs().includes(text);

test('a gateway process whose certificate cannot be used exits 1 with GW_ERR_TLS', { timeout: 60_000 }, async () => {
  const bad = cluster.start('gateway', 'gateway-bad', { ...gatewayEnv, GOS_GATEWAY_TLS_KEY_FILE: path.join(cluster.dir, 'missing.key') });
  assert.equal(await bad.exited, 1);
  assert.ok(logged('[gateway-bad] cannot start: GW_ERR_TLS: cannot read the TLS key file'), cluster.logs());
});

test('wss through a gateway process, links over TLS; SIGHUP renews the certificate without dropping players', { timeout: 120_000 }, async () => {
  const started = [cluster.start('coordinator', 'coordinator-1'), cluster.start('engine', 'engine-1', linkEnv(certs, 'engine'))];
  await Promise.all(started.map((m) => m.ready));
  const gateway = cluster.start('gateway', 'gateway-1', gatewayEnv);
  const ready = await gateway.ready;
  const baseUrl = String(ready['http']);
  assert.match(baseUrl, /^https:\/\//);
  assert.match(String(ready['ws']), /^wss:\/\//);
  const port = Number(new URL(baseUrl).port);

  // Playing needs the link: the engine accepts only a gateway certificate the cluster CA signed.
  const a = await player(baseUrl);
  const first = await servedSerial(port);
  await a.api.move({ seq: 1, x: 10, y: 10 });

  install('renewed', 'renewed');
  gateway.signal('SIGHUP');
  await waitFor(() => logged('[gateway-1] TLS certificate reloaded'), { timeoutMs: 10_000, message: 'the reload to be logged' });
  const renewed = await servedSerial(port);
  assert.notEqual(renewed, first);
  const b = await player(baseUrl);
  const movedA = await a.api.move({ seq: 2, x: 40, y: 10 });
  const movedB = await b.api.move({ seq: 1, x: 60, y: 10 });
  await waitFor(() => b.seen.get(a.accountId) === movedA.x && a.seen.get(b.accountId) === movedB.x, { timeoutMs: 10_000, message: 'both players to see each other' });
  assert.deepEqual(a.closes, [], 'the player connected before SIGHUP stayed connected');

  // A renewal caught half-way (new certificate, old key): logged, and the current one kept.
  install('gateway', 'renewed');
  gateway.signal('SIGHUP');
  await waitFor(() => logged('[gateway-1] TLS certificate reload failed: still serving the previous one'), { timeoutMs: 10_000, message: 'the failed reload to be logged' });
  assert.ok(gateway.running, 'a failed reload does not stop the gateway');
  assert.equal(await servedSerial(port), renewed);
  await b.api.move({ seq: 2, x: 70, y: 10 });
  await a.client.close();
  await b.client.close();
});

test('a gateway whose link certificate another CA signed gets no engine: the engine refuses it (LNK_ERR_TLS)', { timeout: 120_000 }, async () => {
  const intruder = cluster.start('gateway', 'gateway-2', {
    ...linkEnv(rogue, 'gateway-link'),
    GOS_GATEWAY_TLS_CERT_FILE: certs.file('gateway.pem'),
    GOS_GATEWAY_TLS_KEY_FILE: certs.file('gateway.key'),
  });
  const ready = await intruder.ready;
  const p = await player(String(ready['http']), String(ready['ws']));
  await waitFor(() => p.closes.length > 0, { timeoutMs: 20_000, message: 'the player to be closed' });
  assert.match(p.closes[0]!, new RegExp(`^${CloseCode.ENGINE_UNAVAILABLE} `));
  assert.ok(logged('[engine-1] link connection refused: TLS handshake failed: UNABLE_TO_VERIFY_LEAF_SIGNATURE'), cluster.logs());
  assert.ok(logged('[gateway-2] link handshake failed'), cluster.logs());
});
