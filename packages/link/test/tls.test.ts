/**
 * The link over TLS with a cluster CA (for networks that are not private): both sides present
 * a certificate signed by it and verify the other's; the HMAC handshake still runs inside. The
 * CAs are made at test time with openssl (scripts/make-certs.sh).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { ErrorCodes } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { LinkClient, LinkServer, type LinkPeer, type LinkTlsOptions } from '../src/index.js';
import { makeCa } from './certs.js';
import { OTHER_SECRET, SECRET, captureLogger, hasCode, openTcpHandles } from './helpers.js';

const cluster = makeCa(['engine', 'gateway']);
const rogue = makeCa(['gateway', 'engine']);
const locked = makeCa(['engine'], { KEY_PASSPHRASE: 'open sesame' });
after(async () => {
  cluster.remove();
  rogue.remove();
  locked.remove();
  assert.deepEqual(await openTcpHandles(), [], 'no TCP handle left open');
});

/** An engine-side server answering every message with type + 1. */
async function echoServer(tls: LinkTlsOptions | null, logger = captureLogger()): Promise<{ server: LinkServer; peers: LinkPeer[]; logger: typeof logger }> {
  const server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, tls, logger });
  const peers: LinkPeer[] = [];
  server.on('peer', (peer) => {
    peers.push(peer);
    peer.on('message', (type, channel, body) => peer.send(type + 1, channel, body));
  });
  await server.start();
  return { server, peers, logger };
}

test('a link over TLS: both certificates signed by the cluster CA; messages flow both ways', async () => {
  const { server, peers } = await echoServer(cluster.link('engine'));
  await using _server = server;
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, tls: cluster.link('gateway') });
  const up = once(client, 'up');
  await client.start();
  assert.deepEqual(await up, ['engine-1']);
  await waitFor(() => peers.length === 1, { timeoutMs: 3000, message: 'peer event' });
  assert.equal(peers[0]!.nodeId, 'gw-1');
  const reply = once(client, 'message');
  client.send(16, 7, Buffer.from('over tls'));
  const [type, channel, body] = await reply;
  assert.deepEqual([type, channel, Buffer.from(body as Uint8Array).toString()], [17, 7, 'over tls']);
});

test('the engine refuses a gateway whose certificate is not signed by the cluster CA (LNK_ERR_TLS on both sides)', async () => {
  const { server, peers, logger: serverLog } = await echoServer(cluster.link('engine'));
  await using _server = server;
  const clientLog = captureLogger();
  // The rogue gateway trusts the real CA, so only the engine's check can stop it.
  const tls = { ...rogue.link('gateway'), ca: cluster.read('ca.pem') };
  await using client = new LinkClient({ nodeId: 'gw-rogue', secret: SECRET, port: server.port, tls, reconnectMinMs: 1000, logger: clientLog });
  let ups = 0;
  client.on('up', () => ups++);
  await client.start();
  await waitFor(() => client.lastError !== null, { timeoutMs: 3000, message: 'client failure' });
  assert.equal(client.lastError?.code, ErrorCodes.LNK_ERR_TLS, client.lastError?.message);
  await waitFor(() => hasCode(serverLog.entries, ErrorCodes.LNK_ERR_TLS), { timeoutMs: 3000, message: 'the engine logs LNK_ERR_TLS' });
  const refusal = serverLog.entries.find((e) => e.fields.code === ErrorCodes.LNK_ERR_TLS)!;
  assert.equal(refusal.level, 'warn');
  assert.match(refusal.msg ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  assert.ok(hasCode(clientLog.entries, ErrorCodes.LNK_ERR_TLS, (e) => e.level === 'error'), 'the gateway logs it as an error');
  assert.equal(ups, 0);
  assert.equal(peers.length, 0);
});

test('a gateway without a certificate is refused too', async () => {
  const { server, peers, logger: serverLog } = await echoServer(cluster.link('engine'));
  await using _server = server;
  const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: cluster.read('ca.pem') });
  const errors: string[] = [];
  socket.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
  await new Promise((resolve) => socket.once('close', resolve));
  assert.deepEqual(errors, ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);
  await waitFor(() => hasCode(serverLog.entries, ErrorCodes.LNK_ERR_TLS), { timeoutMs: 3000, message: 'the engine logs LNK_ERR_TLS' });
  assert.equal(peers.length, 0);
});

test('a gateway refuses an engine whose certificate is not signed by the cluster CA', async () => {
  const serverLog = captureLogger();
  // The rogue engine trusts the real CA and asks for the gateway's certificate as usual.
  const { server, peers } = await echoServer({ ...rogue.link('engine'), ca: cluster.read('ca.pem') }, serverLog);
  await using _server = server;
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, tls: cluster.link('gateway'), reconnectMinMs: 1000 });
  await client.start();
  await waitFor(() => client.lastError !== null, { timeoutMs: 3000, message: 'client failure' });
  assert.equal(client.lastError?.code, ErrorCodes.LNK_ERR_TLS);
  assert.match(client.lastError?.message ?? '', /self[- ]signed|unable to verify|unable to get/i);
  assert.equal(client.isUp, false);
  assert.equal(peers.length, 0);
});

test('over TLS the cluster secret is still checked (LNK_ERR_AUTH)', async () => {
  const { server, peers } = await echoServer(cluster.link('engine'));
  await using _server = server;
  await using client = new LinkClient({ nodeId: 'gw-1', secret: OTHER_SECRET, port: server.port, tls: cluster.link('gateway'), reconnectMinMs: 1000 });
  await client.start();
  await waitFor(() => client.lastError !== null, { timeoutMs: 3000, message: 'client failure' });
  assert.equal(client.lastError?.code, ErrorCodes.LNK_ERR_AUTH);
  assert.match(client.lastError?.message ?? '', /secrets differ/);
  assert.equal(peers.length, 0);
});

test('one side on TLS and the other not: refused, and the plain side says why', async () => {
  const plain = await echoServer(null);
  await using _plain = plain.server;
  await using tlsClient = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: plain.server.port, tls: cluster.link('gateway'), reconnectMinMs: 1000 });
  await tlsClient.start();
  await waitFor(() => hasCode(plain.logger.entries, ErrorCodes.LNK_ERR_TLS), { timeoutMs: 3000, message: 'the plain engine names the mismatch' });
  const mismatch = plain.logger.entries.find((e) => e.fields.code === ErrorCodes.LNK_ERR_TLS)!.fields.err as Error;
  assert.match(mismatch.message, /the peer speaks TLS but this link is plain TCP/);
  await waitFor(() => tlsClient.lastError !== null, { timeoutMs: 3000, message: 'client failure' });
  assert.equal(tlsClient.lastError?.code, ErrorCodes.LNK_ERR_TLS);

  const secure = await echoServer(cluster.link('engine'));
  await using _secure = secure.server;
  await using plainClient = new LinkClient({ nodeId: 'gw-2', secret: SECRET, port: secure.server.port, reconnectMinMs: 1000 });
  await plainClient.start();
  await waitFor(() => plainClient.lastError !== null, { timeoutMs: 3000, message: 'client failure' });
  assert.equal(plainClient.isUp, false);
  await waitFor(() => hasCode(secure.logger.entries, ErrorCodes.LNK_ERR_TLS), { timeoutMs: 3000, message: 'the TLS engine logs the plain client' });
  assert.equal(plain.peers.length + secure.peers.length, 0);
});

test('TLS material that cannot be used is refused at construction with LNK_ERR_TLS', async () => {
  const good = cluster.link('engine');
  const make = (tls: object) => () => new LinkServer({ nodeId: 'e', secret: SECRET, tls: tls as never });
  assert.throws(make({ ...good, ca: cluster.read('ca.key') }), { code: ErrorCodes.LNK_ERR_TLS, message: /cluster CA is not a PEM certificate/ });
  assert.throws(make({ ...good, key: cluster.read('gateway.key') }), { code: ErrorCodes.LNK_ERR_TLS, message: /key values mismatch/ });
  assert.throws(make({ ...good, cert: 'not a certificate' }), { code: ErrorCodes.LNK_ERR_TLS });
  assert.throws(make({ ...good, cert: '' }), { code: ErrorCodes.OPT_ERR_INVALID, message: /tls\.cert/ });
  assert.throws(() => new LinkClient({ nodeId: 'g', secret: SECRET, port: 1, tls: { ...good, key: locked.read('engine.key'), cert: locked.read('engine.pem') } }), { code: ErrorCodes.LNK_ERR_TLS, message: /bad decrypt|DECODER routines::unsupported/ }); // a wrong passphrase decrypts to garbage: "bad decrypt", or (one time in 256, the padding passing by chance) a decoder error
  assert.throws(() => new LinkClient({ nodeId: 'g', secret: SECRET, port: 1, tls: { ...locked.link('engine'), passphrase: 'wrong' } }), { code: ErrorCodes.LNK_ERR_TLS });
  // The right passphrase works end to end.
  const { server } = await echoServer({ ...locked.link('engine'), passphrase: 'open sesame' });
  await using _server = server;
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, tls: { ...locked.link('engine'), passphrase: 'open sesame' } });
  const up = once(client, 'up');
  await client.start();
  await up;
});
