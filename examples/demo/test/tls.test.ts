/**
 * TLS end to end in one process: the gateway serves https and wss with a certificate of a
 * throw-away CA made at test time (openssl, scripts/make-certs.sh), the gateway ↔ engine link
 * runs over TLS with that CA, players use the SDK trusting the CA, and a certificate reload
 * keeps playing sockets while new ones get the new certificate; the bots connect with --ca.
 * The same with role processes and SIGHUP: tls-processes.test.ts.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { GameClient, login, register } from '@gos/client';
import { waitFor } from '@gos/testing';
import { createApi, protocol } from '../src/generated/protocol.js';
import { fetchTrusting, webSocketTrusting, type EmbeddedCluster } from '../src/index.js';
import { makeCa, type TestCa } from './certs.js';
import { runNode } from './cluster-helpers.js';
import { startCluster, tempDir, uniqueName } from './helpers.js';

const BOTS = fileURLToPath(new URL('../bin/bots.js', import.meta.url));

let dir: Awaited<ReturnType<typeof tempDir>>;
let certs: TestCa;
let cluster: EmbeddedCluster;
let ca: Buffer;
/** The gateway's certificate files, overwritten in place to renew it. */
let live: { certFile: string; keyFile: string };

function install(from: string): void {
  copyFileSync(certs.file(`${from}.pem`), live.certFile);
  copyFileSync(certs.file(`${from}.key`), live.keyFile);
}

before(async () => {
  dir = await tempDir();
  certs = makeCa(['gateway', 'renewed', 'link']);
  ca = certs.read('ca.pem');
  live = { certFile: join(dir.path, 'live.pem'), keyFile: join(dir.path, 'live.key') };
  install('gateway');
  cluster = await startCluster(join(dir.path, 'tls.db'), {
    tls: live,
    link: 'tcp',
    linkTls: { ca, cert: certs.read('link.pem'), key: certs.read('link.key') },
  });
});
after(async () => {
  await cluster.close();
  certs.remove();
  await dir.remove();
});

const auth = (): { fetch: ReturnType<typeof fetchTrusting> } => ({ fetch: fetchTrusting(ca) });

/** A player over https and wss, trusting the test CA only. */
async function player(name: string) {
  await register(cluster.url, name, 'correct-horse-1', auth());
  const session = await login(cluster.url, name, 'correct-horse-1', auth());
  const client = new GameClient({ url: session.gateway, token: session.token, protocol, WebSocket: webSocketTrusting(ca), reconnect: false });
  const closes: number[] = [];
  client.on('close', (e) => closes.push(e.code));
  const seen = new Map<string, number>();
  client.onPush('WorldSnapshot', (s) => s.players.forEach((p) => seen.set(p.id, p.x)));
  await client.connect();
  return { client, api: createApi(client), accountId: session.accountId, gateway: session.gateway, closes, seen };
}

/** Serial number of the certificate a new TLS connection to the gateway is served. */
function servedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: cluster.gateway.port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

test('players log in over https and play over wss; the engine link is TLS with the cluster CA', async () => {
  assert.match(cluster.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const a = await player(uniqueName('tlsa'));
  const b = await player(uniqueName('tlsb'));
  assert.match(a.gateway, /^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
  const meB = await b.api.whoami({});
  const moved = await b.api.move({ seq: 1, x: meB.x + 20, y: meB.y });
  await waitFor(() => a.seen.get(b.accountId) === moved.x, { timeoutMs: 5000, message: 'A to see B move' });
  // The engine's link port answers TLS with the cluster CA and a client certificate only.
  const [host, port] = cluster.engine.address.split(':') as [string, string];
  const linkSerial = await new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ host, port: Number(port), ca, cert: certs.read('gateway.pem'), key: certs.read('gateway.key') }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.on('error', reject);
  });
  assert.equal(linkSerial, new X509Certificate(certs.read('link.pem')).serialNumber);
  await a.client.close();
  await b.client.close();
});

test('a certificate reload keeps playing sockets; new ones get the new certificate and play with them', async () => {
  const before = await servedSerial();
  const a = await player(uniqueName('oldsock'));
  install('renewed');
  await cluster.gateway.reloadTls();
  const renewed = await servedSerial();
  assert.notEqual(renewed, before);

  // A, connected before, still plays; B, after, is on the new certificate: each sees the other.
  const b = await player(uniqueName('newsock'));
  const meA = await a.api.whoami({});
  const movedA = await a.api.move({ seq: 1, x: meA.x + 25, y: meA.y });
  const meB = await b.api.whoami({});
  const movedB = await b.api.move({ seq: 1, x: meB.x + 25, y: meB.y });
  await waitFor(() => b.seen.get(a.accountId) === movedA.x && a.seen.get(b.accountId) === movedB.x, { timeoutMs: 5000, message: 'both to see each other move across the reload' });
  assert.deepEqual(a.closes, [], 'the socket opened before the reload was never closed');
  await a.client.close();
  await b.client.close();
});

test('the bots connect with --ca; without it they cannot', async () => {
  const ok = await runNode([BOTS, '--url', cluster.url, '--ca', certs.file('ca.pem'), '--count', '3', '--seconds', '1', '--rate', '5']);
  assert.equal(ok.code, 0, ok.stderr);
  const result = JSON.parse(ok.stdout.trim().split('\n').at(-1)!) as { connected: number; errors: number; moves: number };
  assert.equal(result.connected, 3);
  assert.equal(result.errors, 0);
  assert.ok(result.moves > 0);
  const refused = await runNode([BOTS, '--url', cluster.url, '--count', '1', '--seconds', '1']);
  assert.equal(refused.code, 1);
  const failed = JSON.parse(refused.stdout.trim().split('\n').at(-1)!) as { connected: number; firstError?: string };
  assert.equal(failed.connected, 0);
  assert.match(failed.firstError ?? '', /^CLI_ERR_HTTP: POST v1\/auth\/register failed/);
});
