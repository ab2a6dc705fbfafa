import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Piscina } from 'piscina';
import { silentLogger } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { FromScene, type SceneTaskInput } from '../src/records.js';
import { RingWriter } from '../src/ring/index.js';
import { SceneHost, WakeupTotals } from '../src/scene-host.js';

/** A scene host over `pool` (a stand-in for piscina), handing each record it reads to `onRecord`. */
function hostOn(pool: Piscina, onRecord: (type: number) => void): SceneHost {
  return new SceneHost({
    pool,
    epoch: 1,
    ringBytes: 4096,
    ringFlush: 'immediate',
    logger: silentLogger,
    wakeups: new WakeupTotals(),
    input: { sceneId: 'w:1', sceneType: 'w', gameModule: 'file:///nowhere.js', state: null, timers: [], tickMs: 100, persistIntervalMs: 5000, logLevel: 'silent', engineId: 'e', configChannel: 'gos-config:test', config: null },
    onRecord,
  });
}

test('a record the worker writes before pool.run returns is read after the host is constructed', async () => {
  // A warm worker can start the task and write READY into the shared ring in parallel with the
  // main thread, before `pool.run` has even returned. This pool does exactly that, synchronously.
  const pool = {
    run(input: SceneTaskInput): Promise<never> {
      const w = new RingWriter(input.fromScene);
      w.write(FromScene.READY, 0, 0, null);
      w.flush();
      return new Promise<never>(() => {});
    },
  } as unknown as Piscina;
  let constructed = false;
  const seen: { type: number; constructed: boolean }[] = [];
  const host = hostOn(pool, (type) => seen.push({ type, constructed }));
  constructed = true;
  await waitFor(() => seen.length > 0, { timeoutMs: 2000, message: 'the READY record' }).finally(() => host.abandon());
  assert.deepEqual(seen, [{ type: FromScene.READY, constructed: true }]);
});

test('records a crashing worker published before it died are read, not dropped with it', async () => {
  // The worker answers a request (or saves a player), its ring write is published, then it dies
  // before the main thread has read the ring: the answer must still be read.
  const pool = {
    run(input: SceneTaskInput): Promise<never> {
      const w = new RingWriter(input.fromScene);
      w.write(FromScene.READY, 0, 0, null);
      w.write(FromScene.SEND, 7, 0, Uint8Array.of(1, 2, 3));
      w.flush();
      return Promise.reject(new Error('worker crashed'));
    },
  } as unknown as Piscina;
  const seen: number[] = [];
  const host = hostOn(pool, (type) => seen.push(type));
  await assert.rejects(host.done, /worker crashed/);
  assert.deepEqual(seen, [FromScene.READY, FromScene.SEND]);
});
