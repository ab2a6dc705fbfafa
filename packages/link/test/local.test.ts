/** What only the in-process link does (the shared behaviour is in contract.test.ts). */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { ErrorCodes, type CodedError } from '@gos/schema';
import { LocalLinks, type GatewayPeer } from '../src/index.js';

test('in-process: a message is the sender\'s own memory, handed over before send returns (no copy)', () => {
  const links = new LocalLinks();
  let received: Uint8Array | null = null;
  links.serve('engine-1', (peer) => peer.on('message', (_t, _c, body) => (received = body)));
  const client = links.connect('engine-1', 'gw-1');
  const frame = new Uint8Array([1, 2, 3]);
  client.send(18, 5, frame);
  assert.ok(received !== null, 'delivered synchronously');
  assert.equal(received, frame, 'the very same bytes');
});

test('in-process: \'up\' follows connect; a send made inside a listener is copied before it waits', async () => {
  const links = new LocalLinks();
  const peers: GatewayPeer[] = [];
  links.serve('engine-1', (peer) => peers.push(peer));
  const client = links.connect('engine-1', 'gw-1');
  const [engineId] = (await once(client, 'up')) as [string];
  assert.equal(engineId, 'engine-1');
  assert.equal(client.peerNodeId, 'engine-1');
  const scratch = new Uint8Array([7, 7]);
  let echoed: number[] | null = null;
  peers[0]!.on('message', () => {
    peers[0]!.send(32, 1, scratch);
    scratch.fill(0); // reused at once: the queued message keeps its own copy
  });
  client.on('message', (_t, _c, body) => (echoed = [...body]));
  client.send(16, 0, new Uint8Array(0));
  assert.equal(echoed, null, 'not delivered inside the listener');
  assert.equal(peers[0]!.stats.queuedBytes, 2);
  await Promise.resolve();
  assert.deepEqual(echoed, [7, 7]);
  assert.equal(peers[0]!.stats.queuedBytes, 0);
});

test('in-process: connecting to an engine not served here throws LNK_ERR_NOT_CONNECTED; serving one twice OPT_ERR_INVALID', () => {
  const links = new LocalLinks();
  assert.throws(() => links.connect('engine-9', 'gw-1'), { code: ErrorCodes.LNK_ERR_NOT_CONNECTED });
  links.serve('engine-1', () => {});
  assert.throws(() => links.serve('engine-1', () => {}), { code: ErrorCodes.OPT_ERR_INVALID });
  assert.throws(() => new LocalLinks({ maxFrameBytes: 9 }), { code: ErrorCodes.OPT_ERR_INVALID });
});

test('in-process: stopping the engine\'s serving closes every gateway\'s link and accepts no more', async () => {
  const links = new LocalLinks();
  const stop = links.serve('engine-1', () => {});
  const a = links.connect('engine-1', 'gw-1');
  const b = links.connect('engine-1', 'gw-2');
  const downs: Array<string | undefined> = [];
  for (const c of [a, b]) c.on('down', (reason: CodedError | null) => downs.push(reason?.code));
  await stop();
  assert.deepEqual(downs, [ErrorCodes.LNK_ERR_CLOSED, ErrorCodes.LNK_ERR_CLOSED]);
  assert.equal(links.serves('engine-1'), false);
  assert.throws(() => links.connect('engine-1', 'gw-3'), { code: ErrorCodes.LNK_ERR_NOT_CONNECTED });
  await assert.rejects(a.start(), { code: ErrorCodes.LNK_ERR_CLOSED });
});

/** An engine that offers a lane for connection 1 only, taking frames while `open`, and records what it got and how. */
function laneEngine(links: LocalLinks): { got: string[]; peer: () => GatewayPeer; open: { value: boolean }; throws: { value: boolean } } {
  const got: string[] = [];
  const open = { value: true };
  const throws = { value: false };
  let served: GatewayPeer | null = null;
  links.serve('engine-1', (peer) => {
    served = peer;
    peer.on('message', (_t, channel, body) => got.push(`link ${channel}:${body[0]}`));
    // Lanes it gave, checked when they come back (as the engine does).
    const issued = new WeakMap<object, number>();
    peer.serveLanes?.({
      lane: (connId) => {
        if (connId !== 1) return null;
        const lane = {};
        issued.set(lane, connId);
        return lane;
      },
      deliver: (lane, frame) => {
        const connId = issued.get(lane);
        if (connId === undefined || !open.value) return false;
        if (throws.value) throw new Error('engine bug');
        got.push(`lane ${connId}:${frame[0]}`);
        // What the engine sends meanwhile waits, as from a listener of the link.
        peer.send(40, connId, new Uint8Array([frame[0]!]));
        return true;
      },
    });
  });
  return { got, peer: () => served!, open, throws };
}

test('in-process lanes: a joined connection\'s frames go straight to the engine, counted as messages; no lane for others', async () => {
  const links = new LocalLinks();
  const engine = laneEngine(links);
  const client = links.connect('engine-1', 'gw-1');
  assert.equal(client.lane(2), null, 'no lane for a connection the engine offers none for');
  const lane = client.lane(1)!;
  const replies: number[] = [];
  client.on('message', (_t, _c, body) => replies.push(body[0]!));
  assert.equal(client.deliverOnLane(lane, new Uint8Array([5, 0])), true);
  assert.deepEqual(engine.got, ['lane 1:5']);
  assert.equal(replies.length, 0, "the engine's reply waits until the lane's delivery returned");
  assert.deepEqual([client.stats.framesOut, client.stats.bytesOut, engine.peer().stats.framesIn], [1, 2 + 9, 1]);
  await Promise.resolve();
  assert.deepEqual(replies, [5]);
  // The engine refuses (e.g. the player left): nothing done, nothing counted; the caller uses the link.
  engine.open.value = false;
  assert.equal(client.deliverOnLane(lane, new Uint8Array([6])), false);
  assert.equal(client.stats.framesOut, 1);
});

test('in-process lanes: refused while a message sent on the link waits (order kept), once closed, and without lanes served', async () => {
  const links = new LocalLinks();
  const engine = laneEngine(links);
  const client = links.connect('engine-1', 'gw-1');
  const lane = client.lane(1)!;
  // A send made inside a listener of the link waits for a microtask: a lane frame must not pass it.
  client.on('message', () => client.send(20, 1, new Uint8Array([1])));
  engine.peer().send(30, 1, new Uint8Array(0));
  assert.equal(client.deliverOnLane(lane, new Uint8Array([2])), false, 'a message waits before it');
  client.send(20, 1, new Uint8Array([2]));
  await Promise.resolve();
  assert.deepEqual(engine.got, ['link 1:1', 'link 1:2']);
  assert.equal(client.deliverOnLane(lane, new Uint8Array([3])), true);
  assert.deepEqual(engine.got, ['link 1:1', 'link 1:2', 'lane 1:3']);
  await client.close();
  assert.equal(client.deliverOnLane(lane, new Uint8Array([4])), false, 'closed');
  assert.equal(client.lane(1), null);

  const plain = new LocalLinks();
  plain.serve('engine-1', () => {});
  const other = plain.connect('engine-1', 'gw-1');
  assert.equal(other.lane(1), null, 'an engine that serves no lanes');
  assert.equal(other.deliverOnLane(lane, new Uint8Array([5])), false);
});

test('in-process lanes: refused inside a listener of the link and past the size bound; a delivery that throws is logged and counts once', async () => {
  const links = new LocalLinks({ maxFrameBytes: 9 + 4 });
  const engine = laneEngine(links);
  const client = links.connect('engine-1', 'gw-1');
  const lane = client.lane(1)!;
  assert.equal(client.deliverOnLane(lane, new Uint8Array(5)), false, 'larger than the link takes: the link path refuses it with its code');
  let insideListener: boolean | null = null;
  client.on('message', () => (insideListener = client.deliverOnLane(lane, new Uint8Array([7]))));
  engine.peer().send(30, 1, new Uint8Array(0));
  assert.equal(insideListener, false, 'no handler runs inside another');
  engine.throws.value = true;
  assert.equal(client.deliverOnLane(lane, new Uint8Array([8])), true, 'as a listener that throws: delivered, never twice');
  assert.equal(client.stats.framesOut, 1);
  assert.equal(client.deliverOnLane({}, new Uint8Array([9])), false, 'a lane the engine never gave');
});
