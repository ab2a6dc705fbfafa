/**
 * A scene type with `inputs: 'at-tick'` handles fire-and-forget inputs (NO_REPLY requests) at
 * its tick without its thread being woken for them; anything urgent still wakes it, after
 * every input that came before. Wake-ups are read from the engine's metric
 * gos_engine_scene_wakeups_total, as an operator would.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FrameFlag, FrameKind, framePayload } from '@gos/schema';
import { EngineToGateway, GatewayToEngine, decodeBroadcastBody, encodeJoinBody, decodeJoinFailedBody } from '@gos/link';
import { waitFor } from '@gos/testing';
import { Registry } from 'prom-client';
import { jsonCodec } from './fixtures/json-protocol.js';
import { startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-inputs-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function wakeupsToScene(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric('gos_engine_scene_wakeups_total')!.get();
  return metric.values.find((v) => v.labels['direction'] === 'to_scene')?.value ?? 0;
}

test("at-tick: fire-and-forget inputs wait for the tick without waking the scene's thread; a request wakes it after them, in order", async () => {
  const registry = new Registry();
  const c = await startCluster(dir, 'at-tick', { engine: { metrics: registry } });
  try {
    await c.coordinator.placement.ensure('paced:1');
    // The gateway learns with JOINED that the scene takes inputs at its ticks, and their interval.
    assert.deepEqual(await c.gw.join(1, 'alice', 'paced:1'), { sceneId: 'paced:1', inputTickMs: 300 });
    const before = await wakeupsToScene(registry);
    for (let i = 0; i < 30; i++) c.gw.send(1, 'tap', {}, FrameFlag.NO_REPLY);
    const tick = await c.gw.waitFor((m) => {
      if (m.type !== EngineToGateway.BROADCAST) return false;
      return (jsonCodec.decode(framePayload(decodeBroadcastBody(m.body).frame)) as { taps: number }).taps === 30;
    });
    assert.ok(tick, 'one tick saw all 30 taps');
    assert.equal(await wakeupsToScene(registry), before, 'no wake-up of the scene for 30 inputs');

    // A request wakes the scene at once, and the inputs sent before it are handled first.
    for (let i = 0; i < 5; i++) c.gw.send(1, 'tap', {}, FrameFlag.NO_REPLY);
    const answer = await c.gw.request(1, 'state', {});
    assert.equal(answer.kind, FrameKind.RESPONSE);
    assert.equal((answer.body as { total: number }).total, 35);
    assert.ok((await wakeupsToScene(registry)) > before, 'the request woke it');
  } finally {
    await c.close();
  }
});

test('on-arrival (the default): a fire-and-forget input wakes a sleeping scene thread', async () => {
  const registry = new Registry();
  const c = await startCluster(dir, 'on-arrival', { engine: { metrics: registry } });
  try {
    assert.deepEqual(await c.gw.join(1, 'alice'), { sceneId: 'arena:1', inputTickMs: 0 }, 'inputs as they come: nothing to hold');
    const before = await wakeupsToScene(registry);
    // The thread may still be awake from the join when the first shout lands: send one shout at
    // a time, each after the last one's broadcast, until one finds it asleep.
    await waitFor(
      async () => {
        c.gw.send(1, 'shout', { text: 'hi' }, FrameFlag.NO_REPLY);
        await c.gw.waitFor((m) => m.type === EngineToGateway.BROADCAST);
        return (await wakeupsToScene(registry)) > before;
      },
      { timeoutMs: 5000, message: 'a shout to wake the scene thread' },
    );
  } finally {
    await c.close();
  }
});

/** Scene types of the fixture with one bad option each: none starts, and the join is refused saying which option. */
const MISCONFIGURED: readonly { readonly sceneType: string; readonly what: string; readonly message: RegExp }[] = [
  { sceneType: 'misconfigured', what: "an inputs option neither 'on-arrival' nor 'at-tick'", message: /inputs must be 'on-arrival' or 'at-tick', got sometimes/ },
  { sceneType: 'badtick', what: 'a tickMs not from 1 ms to the longest timer', message: /scene type "badtick": tickMs must be a number of milliseconds from 1 to 2147483647, got 0/ },
];

for (const { sceneType, what, message } of MISCONFIGURED) {
  test(`a scene type with ${what} does not start: the join is refused with OPT_ERR_INVALID`, async () => {
    const c = await startCluster(dir, sceneType);
    try {
      await c.coordinator.placement.ensure(`${sceneType}:1`);
      c.gw.link.send(GatewayToEngine.JOIN, 1, encodeJoinBody({ playerId: 'alice', name: 'alice', sceneId: `${sceneType}:1` }));
      const failed = await c.gw.waitFor((m) => m.type === EngineToGateway.JOIN_FAILED && m.channel === 1);
      const body = decodeJoinFailedBody(failed.body);
      assert.equal(body.code, 'OPT_ERR_INVALID', body.message);
      assert.match(body.message, message);
    } finally {
      await c.close();
    }
  });
}
