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
