/**
 * The demo's config data (config/demo.xlsx → src/generated-config, docs/config-data.md): the
 * committed bundle is what the workbook gives today, npm start publishes it when nothing was,
 * players are welcomed from it, and a bundle published while they play is in force for the next
 * ones within 2 s.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { convertFolder } from '@gos/config-data';
import { waitFor } from '@gos/testing';
import { SHIPPED_CONFIG } from '../src/index.js';
import WebSocket from 'ws';
import { GameClient, login, register } from '@gos/client';
import { protocol } from '../src/generated/protocol.js';
import { startCluster, tempDir, uniqueName } from './helpers.js';

const WORKBOOKS = fileURLToPath(new URL('../../config', import.meta.url));

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

test('the committed bundle and code are what config/demo.xlsx gives (npm run config -- examples/demo/config --out examples/demo/src/generated-config)', async () => {
  const r = await convertFolder({ dir: WORKBOOKS, out: join(dir.path, 'out') });
  assert.deepEqual(r.problems, []);
  // The .ts files' first line names the workbooks' folder relative to where they were written.
  const body = (text: string, file: string): string => (file.endsWith('.ts') ? text.slice(text.indexOf('\n') + 1) : text);
  for (const file of ['server.json', 'client.json', 'config.ts', 'config.client.ts']) {
    const fresh = body(await readFile(join(dir.path, 'out', file), 'utf8'), file);
    const committed = body(await readFile(join(SHIPPED_CONFIG, '..', file), 'utf8'), file);
    assert.equal(fresh, committed, `${file} is stale: run the command in this test's name`);
  }
});

/** A new player's Welcome (zone and motd), listened for from before it connects. */
async function welcomed(baseUrl: string, players: GameClient<typeof protocol>[]): Promise<{ zone: string; motd: string }> {
  const name = uniqueName('cfg');
  await register(baseUrl, name, 'correct-horse-1');
  const auth = await login(baseUrl, name, 'correct-horse-1');
  const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket, reconnect: { enabled: false } });
  players.push(client);
  const welcomes: Array<{ zone: string; motd: string }> = [];
  client.onPush('Welcome', (w) => welcomes.push({ zone: w.zone, motd: w.motd }));
  await client.connect();
  return waitFor(() => welcomes[0], { timeoutMs: 5000, message: 'the Welcome' });
}

test('npm start publishes the shipped config; players are welcomed from it; a new bundle is in force within 2 s', async () => {
  const cluster = await startCluster(join(dir.path, 'config.db'));
  const players: GameClient<typeof protocol>[] = [];
  try {
    const shipped = JSON.parse(await readFile(SHIPPED_CONFIG, 'utf8')) as { version: string; globals: { motd: string } };
    assert.equal((await cluster.store.configBundles.latest())?.version, shipped.version, 'published at start');
    assert.deepEqual(await welcomed(cluster.url, players), { motd: shipped.globals.motd, zone: 'Green Fields: You are in the Green Fields. The blue portal east leads to the Stone Hills.' });

    // An operator publishes a new message of the day.
    const next = { ...shipped, version: 'motd-2', globals: { ...shipped.globals, motd: 'Double gold today!' } };
    const t0 = Date.now();
    await cluster.store.configBundles.publish('motd-2', JSON.stringify(next));
    await waitFor(async () => (await welcomed(cluster.url, players)).motd === 'Double gold today!', { timeoutMs: 5000, message: 'the new motd for a new player' });
    assert.ok(Date.now() - t0 < 2000 + 1500, 'within the poll and a tick (plus logins)');
  } finally {
    for (const p of players) await p.close();
    await cluster.close();
  }
});

test('a store that already has a bundle keeps it: npm start does not publish over an operator', async () => {
  const file = join(dir.path, 'keep.db');
  const first = await startCluster(file);
  try {
    await first.store.configBundles.publish('operator-1', JSON.stringify({ ...(JSON.parse(await readFile(SHIPPED_CONFIG, 'utf8')) as object), version: 'operator-1' }));
  } finally {
    await first.close();
  }
  const again = await startCluster(file);
  try {
    assert.equal((await again.store.configBundles.latest())?.version, 'operator-1');
  } finally {
    await again.close();
  }
});
