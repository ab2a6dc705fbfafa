import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { ErrorCodes } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { LinkClient, LinkServer, LinkFrameType, encodeLinkFrame, type LinkPeer } from '../src/index.js';
import { encodeHello, newNonce } from '../src/handshake.js';
import { OTHER_SECRET, SECRET, captureLogger, hasCode, openTcpHandles, rawConnect, rawLinkedClient } from './helpers.js';

after(async () => assert.deepEqual(await openTcpHandles(), [], 'no TCP handle left open'));

test('handshake: both sides learn the other node id; messages flow both ways', async () => {
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET });
  const peers: LinkPeer[] = [];
  server.on('peer', (peer) => {
    peers.push(peer);
    peer.on('message', (type, channel, body) => peer.send(type + 1, channel, body));
  });
  await server.start();
  assert.ok(server.port > 0);
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port });
  const up = once(client, 'up');
  await client.start();
  assert.deepEqual(await up, ['engine-1']);
  assert.equal(client.isUp, true);
  assert.equal(client.peerNodeId, 'engine-1');
  assert.equal(client.lastError, null);
  await waitFor(() => peers.length === 1, { timeoutMs: 3000, message: 'peer event' });
  assert.equal(peers[0]!.nodeId, 'gw-1');
  assert.equal(server.peers.length, 1);

  const reply = once(client, 'message');
  client.send(16, 7, Buffer.from('hi'));
  const [type, channel, body] = await reply;
  assert.equal(type, 17);
  assert.equal(channel, 7);
  assert.equal(Buffer.from(body as Uint8Array).toString(), 'hi');
  assert.ok(client.stats.framesOut >= 3 && client.stats.framesIn >= 3, 'handshake and message frames counted');
  assert.ok(peers[0]!.stats.bytesIn > 0 && peers[0]!.stats.bytesOut > 0);
});

test('handshake: a wrong secret is refused on both sides with LNK_ERR_AUTH', async () => {
  const serverLog = captureLogger();
  const clientLog = captureLogger();
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, logger: serverLog });
  let peers = 0;
  server.on('peer', () => peers++);
  await server.start();
  await using client = new LinkClient({ nodeId: 'gw-1', secret: OTHER_SECRET, port: server.port, reconnectMinMs: 1000, logger: clientLog });
  let ups = 0;
  client.on('up', () => ups++);
  await client.start();
  await waitFor(() => client.lastError !== null, { timeoutMs: 3000, message: 'client failure' });
  assert.equal(client.lastError?.code, ErrorCodes.LNK_ERR_AUTH);
  await waitFor(() => hasCode(serverLog.entries, ErrorCodes.LNK_ERR_AUTH), { timeoutMs: 3000, message: 'server logs LNK_ERR_AUTH' });
  assert.ok(hasCode(clientLog.entries, ErrorCodes.LNK_ERR_AUTH, (e) => e.level === 'error'), 'client logs LNK_ERR_AUTH');
  assert.match(client.lastError?.message ?? '', /secrets differ/);
  assert.equal(ups, 0);
  assert.equal(peers, 0);
  assert.throws(() => client.send(16, 0, new Uint8Array(0)), { code: ErrorCodes.LNK_ERR_NOT_CONNECTED });
  for (const entries of [serverLog.entries, clientLog.entries]) {
    const text = JSON.stringify(entries, (_k, v: unknown) => (v instanceof Error ? v.message : v));
    assert.equal(text.includes(SECRET) || text.includes(OTHER_SECRET), false, 'secrets are never logged');
  }
});

test('handshake: the server refuses a client proof made with another secret', async () => {
  const serverLog = captureLogger();
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, logger: serverLog });
  let peers = 0;
  server.on('peer', () => peers++);
  await server.start();
  const raw = await rawLinkedClient(server.port, 'intruder', OTHER_SECRET);
  const answer = await raw.next();
  assert.equal(answer.type, LinkFrameType.REJECT, 'told why');
  await raw.closedWithin(2000);
  await waitFor(() => hasCode(serverLog.entries, ErrorCodes.LNK_ERR_AUTH), { timeoutMs: 3000, message: 'server logs LNK_ERR_AUTH' });
  assert.equal(peers, 0);
});

test('handshake: garbage before the handshake gets the socket dropped', async () => {
  const serverLog = captureLogger();
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, logger: serverLog });
  let peers = 0;
  server.on('peer', () => peers++);
  await server.start();

  const http = await rawConnect(server.port);
  http.socket.write('GET / HTTP/1.1\r\nHost: engine\r\n\r\n');
  await http.closedWithin(2000);

  // A well-formed upper-layer frame is not a HELLO either.
  const early = await rawConnect(server.port);
  early.socket.write(encodeLinkFrame(16, 1, Buffer.from('let me in')));
  await early.closedWithin(2000);

  // Nor is a HELLO of another protocol version.
  const version = await rawConnect(server.port);
  const hello = encodeHello(newNonce(), 'gw-x');
  hello[0] = 99;
  version.socket.write(encodeLinkFrame(LinkFrameType.HELLO, 0, hello));
  await version.closedWithin(2000);

  await waitFor(() => serverLog.entries.filter((e) => e.fields.code === ErrorCodes.LNK_ERR_AUTH).length === 3, { timeoutMs: 3000, message: 'three refusals logged' });
  assert.equal(peers, 0);
  assert.equal(server.peers.length, 0);
});

test('handshake: a connection that stays silent is dropped after handshakeTimeoutMs', async () => {
  const serverLog = captureLogger();
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, handshakeTimeoutMs: 100, logger: serverLog });
  await server.start();
  const started = Date.now();
  const raw = await rawConnect(server.port);
  await raw.closedWithin(2000);
  assert.ok(Date.now() - started >= 90);
  await waitFor(() => hasCode(serverLog.entries, ErrorCodes.LNK_ERR_AUTH), { timeoutMs: 3000, message: 'refusal logged' });
  assert.ok(hasCode(serverLog.entries, ErrorCodes.LNK_ERR_AUTH, (e) => /within 100 ms/.test(String((e.fields.err as Error).message))));
});

test('handshake: a client expecting another engine id refuses the server', async () => {
  await using server = new LinkServer({ nodeId: 'engine-2', secret: SECRET });
  await server.start();
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, expectedPeerId: 'engine-1', reconnectMinMs: 1000 });
  await client.start();
  await waitFor(() => client.lastError !== null, { timeoutMs: 3000, message: 'refusal' });
  assert.equal(client.lastError?.code, ErrorCodes.LNK_ERR_AUTH);
  assert.match(client.lastError?.message ?? '', /engine-2/);
  assert.equal(client.isUp, false);
});

test('handshake: maxPeers bounds connections', async () => {
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, maxPeers: 1 });
  await server.start();
  const first = await rawConnect(server.port);
  const second = await rawConnect(server.port);
  await second.closedWithin(2000);
  // A duration, not a condition: the first connection is not closed in the 20 ms after.
  await setTimeout(20);
  assert.equal(first.closed, false);
  first.socket.destroy();
});
