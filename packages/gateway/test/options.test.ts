import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryCoordinator } from '@gos/coordinator';
import { coreProtocol } from '@gos/schema';
import type { Store } from '@gos/store';
import { MemorySessionStore } from '../src/index.js';
import { resolveGatewayOptions, SCENE_ID, type GatewayOptions } from '../src/options.js';

const base = (): GatewayOptions => ({
  gatewayId: 'gw-1',
  clusterSecret: 'a-secret-of-at-least-16',
  coordinator: new MemoryCoordinator(),
  store: {} as Store,
  sessions: new MemorySessionStore(),
  protocol: coreProtocol,
});

test('scene ids: <type>:<instance>, a type starting with a lower-case letter', () => {
  for (const ok of ['world:1', 'mmo:0', 'dungeon:a-7.b_2', 'lobby']) assert.ok(SCENE_ID.test(ok), ok);
  for (const bad of ['World:1', 'world:', ':1', 'world:1:2', 'wo rld:1', '', `w:${'x'.repeat(65)}`]) assert.ok(!SCENE_ID.test(bad), bad);
});

test('defaultSceneId and sceneForLogin are checked when the gateway is built', () => {
  assert.equal(resolveGatewayOptions(base()).defaultSceneId, 'world:1');
  assert.equal(resolveGatewayOptions(base()).sceneForLogin, null);
  assert.throws(() => resolveGatewayOptions({ ...base(), defaultSceneId: 'Not A Scene' }), (e: { code?: string; message: string }) => e.code === 'OPT_ERR_INVALID' && /defaultSceneId/.test(e.message));
  assert.throws(() => resolveGatewayOptions({ ...base(), sceneForLogin: 'world:2' as unknown as () => string }), (e: { code?: string }) => e.code === 'OPT_ERR_INVALID');
  const chooser = (): string => 'world:2';
  assert.equal(resolveGatewayOptions({ ...base(), sceneForLogin: chooser }).sceneForLogin, chooser);
});

test('inputHoldLeadMs: 10 by default, 0 turns holding off, anything but a whole number ≥ 0 is refused', () => {
  assert.equal(resolveGatewayOptions(base()).inputHoldLeadMs, 10);
  assert.equal(resolveGatewayOptions({ ...base(), inputHoldLeadMs: 0 }).inputHoldLeadMs, 0);
  for (const bad of [-1, 2.5, Number.NaN]) {
    assert.throws(() => resolveGatewayOptions({ ...base(), inputHoldLeadMs: bad }), (e: { code?: string; message: string }) => e.code === 'OPT_ERR_INVALID' && /inputHoldLeadMs/.test(e.message), String(bad));
  }
});
