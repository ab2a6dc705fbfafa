import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ErrorCodes, type CodedError } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { LinkClient, LinkServer, encodeLinkFrame, type LinkPeer } from '../src/index.js';
import { SECRET, bodyFor, bodyMatches, captureLogger, hasCode, nextTurn, openTcpHandles, rawLinkedClient } from './helpers.js';
import { LinkFrameType } from '../src/frame.js';

after(async () => assert.deepEqual(await openTcpHandles(), [], 'no TCP handle left open'));

async function linked(serverOptions: Partial<ConstructorParameters<typeof LinkServer>[0]> = {}, clientOptions: Partial<ConstructorParameters<typeof LinkClient>[0]> = {}) {
  const server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, ...serverOptions });
  const peers: LinkPeer[] = [];
  server.on('peer', (peer) => peers.push(peer));
  await server.start();
  const client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, ...clientOptions });
  const up = once(client, 'up');
  await client.start();
  await up;
  await waitFor(() => peers.length === 1, { timeoutMs: 3000, message: 'peer' });
  return {
    server,
    client,
    peer: peers[0]!,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
    },
  };
}

test('10 000 messages of mixed sizes arrive in order and intact, both ways', async () => {
  const COUNT = 10_000;
  await using link = await linked();
  const atServer: number[] = [];
  let serverBad = 0;
  link.peer.on('message', (type, channel, body) => {
    if (type !== 16 + (channel % 200) || !bodyMatches(channel, body)) serverBad++;
    atServer.push(channel);
    link.peer.send(type, channel, body); // echo
  });
  const atClient: number[] = [];
  let clientBad = 0;
  link.client.on('message', (type, channel, body) => {
    if (type !== 16 + (channel % 200) || !bodyMatches(channel, body)) clientBad++;
    atClient.push(channel);
  });
  let bytes = 0;
  for (let i = 0; i < COUNT; i++) {
    const body = bodyFor(i);
    bytes += body.length;
    link.client.send(16 + (i % 200), i, body);
    if (i % 200 === 199) await nextTurn();
  }
  await waitFor(() => atClient.length === COUNT, { timeoutMs: 20_000, message: 'all echoes' });
  assert.equal(serverBad, 0);
  assert.equal(clientBad, 0);
  assert.deepEqual(atServer, Array.from({ length: COUNT }, (_, i) => i));
  assert.deepEqual(atClient, atServer);
  assert.ok(bytes > 10_000_000, 'large frames were part of the mix');
  assert.ok(link.client.stats.writes < COUNT / 10, `batched: ${link.client.stats.writes} writes`);
});

test('frames written one byte at a time arrive intact', async () => {
  const server = new LinkServer({ nodeId: 'engine-1', secret: SECRET });
  const received: Array<[number, number, Buffer]> = [];
  server.on('peer', (peer) => peer.on('message', (t, c, b) => received.push([t, c, Buffer.from(b)])));
  await server.start();
  const raw = await rawLinkedClient(server.port, 'gw-bytes');
  const ready = await raw.next();
  assert.equal(ready.type, LinkFrameType.READY);
  const small = (i: number): Buffer => Buffer.alloc(i % 13, i);
  const wire = Buffer.concat(Array.from({ length: 30 }, (_, i) => encodeLinkFrame(20, i, small(i))));
  for (const byte of wire) {
    raw.socket.write(Buffer.of(byte));
    await nextTurn();
  }
  await waitFor(() => received.length === 30, { timeoutMs: 3000, message: 'all frames' });
  received.forEach(([t, c, b], i) => {
    assert.equal(t, 20);
    assert.equal(c, i);
    assert.ok(b.equals(small(i)));
  });
  raw.socket.destroy();
  await server.close();
});

test('sends in one turn are batched into one socket write', async () => {
  await using link = await linked();
  let got = 0;
  link.peer.on('message', () => got++);
  await nextTurn();
  const before = link.client.stats;
  for (let i = 0; i < 1000; i++) link.client.send(16, i, new Uint8Array(i % 64));
  assert.equal(link.client.stats.writes, before.writes, 'nothing written synchronously');
  await waitFor(() => got === 1000, { timeoutMs: 3000, message: 'all messages' });
  const after = link.client.stats;
  assert.equal(after.writes - before.writes, 1, 'one write for the whole turn');
  assert.equal(after.framesOut - before.framesOut, 1000);
});

test('a peer sending an oversized frame is disconnected with LNK_ERR_FRAME_TOO_LARGE', async () => {
  const serverLog = captureLogger();
  await using link = await linked({ maxFrameBytes: 4096, logger: serverLog }, { maxFrameBytes: 1 << 20, reconnectMinMs: 5000 });
  const closed = once(link.peer, 'close');
  const down = once(link.client, 'down');
  link.client.send(16, 1, new Uint8Array(4096)); // 4105 bytes with its header
  const [reason] = (await closed) as [CodedError];
  assert.equal(reason.code, ErrorCodes.LNK_ERR_FRAME_TOO_LARGE);
  assert.ok(hasCode(serverLog.entries, ErrorCodes.LNK_ERR_FRAME_TOO_LARGE, (e) => e.level === 'warn'));
  await down;
  assert.equal(link.client.isUp, false);
});

test('sending an oversized frame throws LNK_ERR_FRAME_TOO_LARGE and keeps the link', async () => {
  await using link = await linked({}, { maxFrameBytes: 4096 });
  assert.throws(() => link.client.send(16, 0, new Uint8Array(4096 - 8)), { code: ErrorCodes.LNK_ERR_FRAME_TOO_LARGE });
  assert.throws(() => link.peer.send(32, 0, new Uint8Array(2 << 20)), { code: ErrorCodes.LNK_ERR_FRAME_TOO_LARGE });
  const got = once(link.peer, 'message');
  link.client.send(16, 0, new Uint8Array(4096 - 9)); // exactly maxFrameBytes
  await got;
});

test('queue bound: send throws LNK_ERR_QUEUE_FULL, the link goes on', async () => {
  await using link = await linked({}, { maxFrameBytes: 16 * 1024, maxQueuedBytes: 16 * 1024 });
  let got = 0;
  link.peer.on('message', () => got++);
  let sent = 0;
  assert.throws(() => {
    for (;;) {
      link.client.send(16, sent, new Uint8Array(1000));
      sent++;
    }
  }, { code: ErrorCodes.LNK_ERR_QUEUE_FULL });
  assert.equal(sent, Math.floor((16 * 1024) / 1009));
  await waitFor(() => got === sent, { timeoutMs: 3000, message: 'queued messages delivered' });
  link.client.send(16, 0, new Uint8Array(1000));
  await waitFor(() => got === sent + 1, { timeoutMs: 3000, message: 'link still usable' });
});

test('send validates type and channel', async () => {
  await using link = await linked();
  assert.throws(() => link.client.send(15, 0, new Uint8Array(0)), RangeError, 'reserved type');
  assert.throws(() => link.client.send(256, 0, new Uint8Array(0)), RangeError);
  assert.throws(() => link.client.send(16.5, 0, new Uint8Array(0)), RangeError);
  assert.throws(() => link.peer.send(16, -1, new Uint8Array(0)), RangeError);
  assert.throws(() => link.peer.send(16, 2 ** 32, new Uint8Array(0)), RangeError);
  const got = once(link.peer, 'message');
  link.client.send(255, 2 ** 32 - 1, new Uint8Array(0));
  assert.deepEqual((await got).slice(0, 2), [255, 2 ** 32 - 1]);
});

test('a throwing listener is logged and does not break the link', async () => {
  const serverLog = captureLogger();
  await using link = await linked({ logger: serverLog });
  const seen: number[] = [];
  link.peer.on('message', (_t, channel) => {
    seen.push(channel);
    if (channel === 1) throw new Error('listener bug');
  });
  for (let i = 0; i < 3; i++) link.client.send(16, i, new Uint8Array(0));
  await waitFor(() => seen.length === 3, { timeoutMs: 3000, message: 'all three' });
  assert.ok(serverLog.entries.some((e) => e.level === 'error' && e.msg === 'link listener threw'));
  assert.equal(link.peer.isOpen, true);
});

test('the sender may reuse its buffer right after send', async () => {
  await using link = await linked();
  const got = once(link.peer, 'message');
  const scratch = Buffer.from('original');
  link.client.send(16, 0, scratch);
  scratch.fill(0);
  const [, , body] = await got;
  assert.equal(Buffer.from(body as Uint8Array).toString(), 'original');
});
