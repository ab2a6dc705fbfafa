import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '@gos/schema';
import { LINK_DEFAULTS, LinkClient, LinkServer, resolveLinkClientOptions, resolveLinkServerOptions } from '../src/index.js';
import { SECRET } from './helpers.js';

test('options: defaults merged and frozen, caller object untouched', () => {
  const input = { nodeId: 'engine-1', secret: SECRET };
  const o = resolveLinkServerOptions(input);
  assert.ok(Object.isFrozen(o));
  assert.deepEqual(input, { nodeId: 'engine-1', secret: SECRET });
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.port, 0);
  assert.equal(o.maxFrameBytes, 1024 * 1024);
  assert.equal(o.maxQueuedBytes, 64 * 1024 * 1024);
  assert.equal(o.heartbeatMs, 2000);
  assert.equal(o.handshakeTimeoutMs, 5000);
  const c = resolveLinkClientOptions({ nodeId: 'gw-1', secret: new Uint8Array(16).fill(7), port: 4000 });
  assert.equal(c.reconnectMinMs, LINK_DEFAULTS.reconnectMinMs);
  assert.equal(c.reconnectMaxMs, 5000);
  assert.equal(c.expectedPeerId, null);
  assert.equal(c.secret.length, 16);
});

test('options: invalid values fail with OPT_ERR_INVALID naming the option', () => {
  const cases: Array<[string, () => unknown]> = [
    ['nodeId', () => new LinkServer({ nodeId: '', secret: SECRET })],
    ['nodeId', () => new LinkServer({ nodeId: 'x'.repeat(256), secret: SECRET })],
    ['secret', () => new LinkServer({ nodeId: 'e', secret: 'short' })],
    ['secret', () => new LinkServer({ nodeId: 'e', secret: 42 as unknown as string })],
    ['maxFrameBytes', () => new LinkServer({ nodeId: 'e', secret: SECRET, maxFrameBytes: 10 })],
    ['maxQueuedBytes', () => new LinkServer({ nodeId: 'e', secret: SECRET, maxFrameBytes: 4096, maxQueuedBytes: 4095 })],
    ['heartbeatMs', () => new LinkServer({ nodeId: 'e', secret: SECRET, heartbeatMs: 1.5 })],
    ['port', () => new LinkServer({ nodeId: 'e', secret: SECRET, port: 70000 })],
    ['host', () => new LinkServer({ nodeId: 'e', secret: SECRET, host: '' })],
    ['port', () => new LinkClient({ nodeId: 'g', secret: SECRET } as unknown as ConstructorParameters<typeof LinkClient>[0])],
    ['reconnectMaxMs', () => new LinkClient({ nodeId: 'g', secret: SECRET, port: 1, reconnectMinMs: 500, reconnectMaxMs: 100 })],
    ['expectedPeerId', () => new LinkClient({ nodeId: 'g', secret: SECRET, port: 1, expectedPeerId: '' })],
  ];
  for (const [name, make] of cases) {
    assert.throws(make, (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.OPT_ERR_INVALID);
      assert.match(err.message, new RegExp(`"${name}"`));
      return true;
    });
  }
});
