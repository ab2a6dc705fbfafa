/**
 * Config hot reload (docs/config-data.md): a bundle published to the store reaches every scene
 * of the engine within 2 s, is switched to at a tick boundary with onConfigReload, and a bad
 * bundle (not JSON, the client's side, a version that does not match, one the game's loader
 * refuses) leaves the one in force.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { SqliteStore } from '@gos/store';
import { memoryLog, waitFor } from '@gos/testing';
import { startCluster } from './helpers.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bundle = (version: string, globals: Record<string, unknown>, side = 'server'): string => JSON.stringify({ format: 1, version, side, tables: { Item: [{ id: 1 }] }, globals });

interface Seen {
  version: string | null;
  config: { level: number | null } | null;
  reloads: Array<{ from: string | null; to: string | null; tick: number }>;
  tick: number;
}

test('a published bundle is in force at start, a new one within 2 s at a tick boundary, and bad ones are refused', async () => {
  const store = new SqliteStore({ file: join(dir, 'config.db') });
  await store.start();
  // Published before the engine starts: scenes start with it, without a reload.
  await store.configBundles.publish('v1', bundle('v1', { level: 1 }));
  const log = memoryLog();
  const c = await startCluster(dir, 'config', { store, workers: 2, engine: { configPollMs: 100, logger: pino({ level: 'info' }, log.stream) } });
  const seen = async (conn: number): Promise<Seen> => (await c.gw.request(conn, 'config', {})).body as Seen;
  const logged = (msg: string, version: string): boolean => log.lines().some((l) => l.msg === msg && l['version'] === version);
  try {
    await c.gw.join(1, 'ann');
    await c.coordinator.placement.ensure('arena:2');
    await c.gw.join(2, 'bob', 'arena:2');
    for (const conn of [1, 2]) {
      const s = await seen(conn);
      assert.deepEqual([s.version, s.config?.level, s.reloads], ['v1', 1, []], `scene ${conn}: started with v1 (the loader's output), no reload`);
    }

    const t0 = Date.now();
    await store.configBundles.publish('v2', bundle('v2', { level: 2 }));
    for (const conn of [1, 2]) {
      const got = await waitFor(async () => {
        const s = await seen(conn);
        return s.version === 'v2' ? s : undefined;
      }, { timeoutMs: 2000, message: `v2 in force in scene ${conn} within 2 s` });
      assert.equal(got.config?.level, 2);
      assert.deepEqual(got.reloads.map((r) => [r.from, r.to]), [['v1', 'v2']], 'one onConfigReload');
    }
    assert.ok(Date.now() - t0 < 2000, `${Date.now() - t0} ms`);

    // Refused on the main thread: not JSON, the client's bundle, a version other than published.
    const refused = [
      ['v3', '{"format":1,'],
      ['v4', bundle('v4', { level: 4 }, 'client')],
      ['v5', bundle('v6', { level: 5 })],
    ] as const;
    for (const [version, content] of refused) {
      await store.configBundles.publish(version, content);
      await waitFor(() => logged('config bundle refused; the one in force stays', version), { timeoutMs: 5000, message: `${version} refused` });
    }
    // Accepted by the engine, refused by the game's loader on the scene threads: a few ticks later, still v2.
    await store.configBundles.publish('v7', bundle('v7', { level: 7, refuse: true }));
    await waitFor(() => logged('config bundle in force', 'v7'), { timeoutMs: 5000, message: 'v7 offered to the threads' });
    const at = (await seen(1)).tick;
    await waitFor(async () => (await seen(1)).tick >= at + 5, { timeoutMs: 5000, message: 'five ticks later' });
    assert.equal((await seen(1)).version, 'v2', 'the loader refused v7: v2 stays');

    // A good one after them: in force, and the bad ones never were.
    await store.configBundles.publish('v8', bundle('v8', { level: 8 }));
    for (const conn of [1, 2]) {
      const s = await waitFor(async () => {
        const x = await seen(conn);
        return x.version === 'v8' ? x : undefined;
      }, { timeoutMs: 2000, message: `v8 in force in scene ${conn}` });
      assert.deepEqual(s.reloads.map((r) => r.to), ['v2', 'v8'], 'v3–v7 never in force');
    }
  } finally {
    await c.close();
  }
});
