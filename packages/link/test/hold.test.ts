/**
 * Messages sent with `holdUntil` (a gateway's fire-and-forget inputs to a scene that takes them
 * at its ticks): over TCP they wait in the batch and leave together by the earliest of their
 * times, in one write; anything sent without it takes them along at the end of its turn, in
 * order; closing writes them. In-process, they are delivered at once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { waitFor } from '@gos/testing';
import { LinkClient, LinkServer, LocalLinks } from '../src/index.js';
import { SECRET, nextTurn, openTcpHandles } from './helpers.js';

after(async () => assert.deepEqual(await openTcpHandles(), [], 'no TCP handle left open'));

/**
 * A client linked to a server whose peer records each message's channel and arrival time. No
 * heartbeat within a test (its PING would write the batch): only the holds do.
 */
async function linked(): Promise<{ client: LinkClient; received: Array<{ channel: number; at: number }>; close(): Promise<void> }> {
  const server = new LinkServer({ nodeId: 'engine-1', secret: SECRET, heartbeatMs: 600_000 });
  const received: Array<{ channel: number; at: number }> = [];
  server.on('peer', (peer) => peer.on('message', (_type, channel) => received.push({ channel, at: performance.now() })));
  await server.start();
  const client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, heartbeatMs: 600_000 });
  const up = once(client, 'up');
  await client.start();
  await up;
  return {
    client,
    received,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

test('held messages leave together when the earliest hold ends, in one write, not at the end of their turns', async () => {
  const l = await linked();
  try {
    const writes = l.client.stats.writes;
    const holdUntil = performance.now() + 150;
    for (let i = 1; i <= 3; i++) {
      l.client.send(16, i, new Uint8Array(8), holdUntil + i * 1000);
      await nextTurn();
    }
    // The first hold is the latest any of them waits: a later send with an earlier time moves it.
    l.client.send(16, 4, new Uint8Array(8), holdUntil);
    await waitFor(() => l.received.length === 4, { timeoutMs: 5000, message: 'the held messages' });
    assert.deepEqual(
      l.received.map((r) => r.channel),
      [1, 2, 3, 4],
    );
    // Timers run on the loop's cached clock, a millisecond or two behind performance.now().
    assert.ok(l.received[0]!.at >= holdUntil - 5, `held until ${holdUntil.toFixed(1)}, arrived at ${l.received[0]!.at.toFixed(1)}`);
    assert.equal(l.client.stats.writes - writes, 1, 'one write for the four');
  } finally {
    await l.close();
  }
});

test('a message sent without a hold takes the held ones along at the end of its turn, in order; then holding starts again', async () => {
  const l = await linked();
  try {
    const far = performance.now() + 60_000;
    const soon = performance.now() + 100;
    l.client.send(16, 1, new Uint8Array(4), soon);
    l.client.send(16, 2, new Uint8Array(4), soon);
    await nextTurn();
    const writes = l.client.stats.writes;
    l.client.send(16, 3, new Uint8Array(4));
    await waitFor(() => l.received.length === 3, { timeoutMs: 5000, message: 'the urgent message and the held ones before it' });
    assert.deepEqual(
      l.received.map((r) => r.channel),
      [1, 2, 3],
    );
    assert.equal(l.client.stats.writes - writes, 1);
    // The batch written, its hold is gone with it: the next held message, due later than that
    // hold was, has a time of its own.
    l.client.send(16, 4, new Uint8Array(4), soon + 100);
    await waitFor(() => l.received.length === 4, { timeoutMs: 5000, message: 'the next held message, by its own time' });
    // A held message behind one sent at once in the same turn leaves with it.
    l.client.send(16, 5, new Uint8Array(4));
    l.client.send(16, 6, new Uint8Array(4), far);
    await waitFor(() => l.received.length === 6, { timeoutMs: 5000, message: 'a held message in a turn that writes' });
    assert.deepEqual(
      l.received.map((r) => r.channel),
      [1, 2, 3, 4, 5, 6],
    );
  } finally {
    await l.close();
  }
});

test('closing writes the held messages first', async () => {
  const l = await linked();
  const far = performance.now() + 60_000;
  for (let i = 1; i <= 5; i++) l.client.send(16, i, new Uint8Array(4), far);
  await nextTurn();
  await l.client.close();
  await waitFor(() => l.received.length === 5, { timeoutMs: 5000, message: 'held messages written on close' });
  await l.close();
});

test('in-process: a held message is delivered at once', () => {
  const links = new LocalLinks();
  const got: number[] = [];
  links.serve('engine-1', (peer) => peer.on('message', (_type, channel) => got.push(channel)));
  const client = links.connect('engine-1', 'gw-1');
  client.send(18, 7, new Uint8Array(4), performance.now() + 60_000);
  assert.deepEqual(got, [7]);
});
