import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import { ErrorCodes, type CodedError } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { LinkClient, LinkServer, LinkFrameType, type LinkPeer } from '../src/index.js';
import { SECRET, captureLogger, openTcpHandles, rawLinkedClient, silentLinkServer } from './helpers.js';

/** The link measured the silence itself, on a monotonic clock: check its figure. */
function assertSilentFor(reason: CodedError, minMs: number): void {
  const match = /silent for (\d+) ms \(heartbeat timeout/.exec(reason.message);
  assert.ok(match !== null, reason.message);
  assert.ok(Number(match[1]) >= minMs, reason.message);
}

after(async () => assert.deepEqual(await openTcpHandles(), [], 'no TCP handle left open'));

test('heartbeat: the server drops a peer that completed the handshake and went silent', async () => {
  const log = captureLogger();
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, heartbeatMs: 50, logger: log });
  const peers: LinkPeer[] = [];
  let upAt = 0;
  server.on('peer', (peer) => {
    upAt = Date.now();
    peers.push(peer);
  });
  await server.start();
  const raw = await rawLinkedClient(server.port, 'frozen-gw');
  assert.equal((await raw.next()).type, LinkFrameType.READY);
  await waitFor(() => peers.length === 1, { timeoutMs: 3000, message: 'peer' });
  const [reason] = (await once(peers[0]!, 'close')) as [CodedError];
  const elapsed = Date.now() - upAt;
  assert.equal(reason.code, ErrorCodes.LNK_ERR_CLOSED);
  assert.match(reason.message, /heartbeat/);
  assertSilentFor(reason, 150);
  // Wall-clock bounds stay loose: a loaded machine may deschedule the process at any point.
  assert.ok(elapsed >= 100 && elapsed < 1500, `dropped after ${elapsed} ms (3 × 50 ms)`);
  // The silent peer was pinged while idle before being dropped.
  let pings = 0;
  for (;;) {
    try {
      if ((await raw.next(500)).type === LinkFrameType.PING) pings++;
    } catch {
      break;
    }
  }
  assert.ok(pings >= 1, `${pings} pings`);
  await raw.closedWithin(1000);
});

test('heartbeat: the client notices a frozen server, goes down, and redials', async () => {
  await using silent = await silentLinkServer('engine-frozen');
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: silent.port, heartbeatMs: 50, reconnectMinMs: 20, reconnectMaxMs: 50 });
  let upAt = 0;
  client.once('up', () => (upAt = Date.now()));
  const up = once(client, 'up');
  await client.start();
  await up;
  const [reason] = (await once(client, 'down')) as [CodedError];
  const elapsed = Date.now() - upAt;
  assert.equal(reason.code, ErrorCodes.LNK_ERR_CLOSED);
  assertSilentFor(reason, 150);
  assert.ok(elapsed >= 100 && elapsed < 1500, `down after ${elapsed} ms`);
  await once(client, 'up');
  assert.equal(silent.sockets.length, 2, 'redialled');
});

test('heartbeat: an idle link stays up for many heartbeat periods and measures its RTT', async () => {
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, heartbeatMs: 20 });
  const peers: LinkPeer[] = [];
  server.on('peer', (peer) => peers.push(peer));
  await server.start();
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, heartbeatMs: 20 });
  let downs = 0;
  client.on('down', () => downs++);
  const up = once(client, 'up');
  await client.start();
  await up;
  const before = client.stats.framesIn;
  // A duration, not a condition: the link must stay up through 15 heartbeat periods.
  await setTimeout(300);
  assert.equal(downs, 0);
  assert.equal(client.isUp, true);
  assert.ok(client.stats.framesIn - before >= 5, 'pings or pongs kept arriving');
  await waitFor(() => client.stats.rttMs !== null, { timeoutMs: 3000, message: 'an RTT sample' });
  assert.ok((client.stats.rttMs ?? -1) >= 0);
});

test('heartbeat: a blocked event loop on our side does not count against the peer', async () => {
  const log = captureLogger();
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, heartbeatMs: 20, logger: log });
  await server.start();
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, heartbeatMs: 20 });
  let downs = 0;
  client.on('down', () => downs++);
  const up = once(client, 'up');
  await client.start();
  await up;
  // Both ends live in this process: blocking it for 10 heartbeats freezes both, and each must
  // read what arrived before judging the other.
  const until = Date.now() + 200;
  while (Date.now() < until) {
    // busy
  }
  // A duration, not a condition: after the block, 5 more heartbeat periods pass without a drop.
  await setTimeout(100);
  assert.equal(downs, 0);
  assert.equal(client.isUp, true);
});
