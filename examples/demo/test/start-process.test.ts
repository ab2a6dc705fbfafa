/**
 * `npm start` as a user runs it: the real entry file in its own process, PORT from the
 * environment, SIGTERM for a graceful stop (exit 0, data flushed), then a restart on the same
 * data folder. Also `npm run bots` against it, checking its last line.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { GameClient, login, register } from '@gos/client';
import { createApi, protocol } from '../src/generated/protocol.js';
import { runNode } from './cluster-helpers.js';
import { startProcess, tempDir, uniqueName, type StartedProcess } from './helpers.js';

const START = fileURLToPath(new URL('../bin/start.js', import.meta.url));
const BOTS = fileURLToPath(new URL('../bin/bots.js', import.meta.url));

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

function start(dataDir: string): Promise<StartedProcess> {
  return startProcess(dataDir, { LOG_LEVEL: 'warn', PERSIST_INTERVAL_MS: '60000' });
}

test('npm start: serves, stops on SIGTERM with exit 0 having saved everything, and resumes', async () => {
  const data = join(dir.path, 'data');
  const name = uniqueName('proc');
  let where: { x: number; y: number };
  {
    const s = await start(data);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    const page = await fetch(`${s.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<canvas/);
    await register(s.url, name, 'correct-horse-1');
    const auth = await login(s.url, name, 'correct-horse-1');
    const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket: WebSocket });
    await client.connect();
    const api = createApi(client);
    const me = await api.whoami({});
    const res = await api.move({ seq: 1, x: me.x + 33, y: me.y + 11 });
    where = { x: res.x, y: res.y };
    // The process metrics (CPU, memory, event-loop delay) are served with the roles'.
    const scraped = await (await fetch(`${s.url}/metrics`)).text();
    for (const name of ['gos_process_cpu_seconds_total', 'gos_process_resident_memory_bytes', 'gos_nodejs_eventloop_lag_p99_seconds', 'gos_gateway_connections', 'gos_engine_players']) {
      assert.match(scraped, new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'), `${name} in /metrics`);
    }
    const closed = new Promise<number>((resolve) => client.on('close', (e) => resolve(e.code)));
    // The persist interval is a minute: only the graceful shutdown can have saved the move.
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
    assert.equal(await closed, 4010);
    await client.close();
  }
  const s = await start(data);
  try {
    const auth = await login(s.url, name, 'correct-horse-1');
    const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket: WebSocket });
    await client.connect();
    const me = await createApi(client).whoami({});
    assert.deepEqual({ x: me.x, y: me.y }, where);
    await client.close();

    // npm run bots -- --count 3 --seconds 2, with PORT taken from the URL.
    const port = new URL(s.url).port;
    const bots = spawn(process.execPath, [BOTS, '--count', '3', '--seconds', '2'], { env: { ...process.env, PORT: port }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    bots.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => bots.on('exit', resolve));
    const last = JSON.parse(out.trim().split('\n').at(-1)!) as { connected: number; moves: number; seenOthers: boolean; errors: number };
    assert.equal(code, 0);
    assert.equal(last.connected, 3);
    assert.equal(last.errors, 0);
    assert.equal(last.seenOthers, true);
    assert.ok(last.moves > 0);

    // npm run bots -- --map field: the same on the large map, walking with fire-and-forget steps.
    const fieldBots = spawn(process.execPath, [BOTS, '--count', '3', '--seconds', '2', '--map', 'field'], { env: { ...process.env, PORT: port }, stdio: ['ignore', 'pipe', 'inherit'] });
    let fieldOut = '';
    fieldBots.stdout.on('data', (c: Buffer) => (fieldOut += c.toString()));
    const fieldCode = await new Promise<number | null>((resolve) => fieldBots.on('exit', resolve));
    const onField = JSON.parse(fieldOut.trim().split('\n').at(-1)!) as { connected: number; moves: number; errors: number };
    assert.deepEqual([fieldCode, onField.connected, onField.errors], [0, 3, 0]);
    assert.ok(onField.moves > 0);
  } finally {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  }
});

test('npm start on a port already in use exits 1 with GW_ERR_PORT_IN_USE instead of sharing it', async () => {
  const first = await start(join(dir.path, 'first'));
  try {
    const port = new URL(first.url).port;
    const second = await runNode([START], { ...process.env, PORT: port, DATA_DIR: join(dir.path, 'second'), LOG_LEVEL: 'warn' }, { killAfterMs: 20_000 });
    assert.equal(second.killed, false, `the second instance kept running on the shared port: ${second.stdout}`);
    assert.equal(second.code, 1);
    assert.match(second.stdout, new RegExp(`"msg":"cannot start: GW_ERR_PORT_IN_USE: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use"`));
    assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
  } finally {
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);
  }
});
