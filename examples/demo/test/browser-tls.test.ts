/**
 * The demo page served over https: a real browser (Debian's Chromium, playwright-core) can only
 * open wss:// from it, and plays through it. The gateway's certificate comes from a throw-away
 * CA made at test time (openssl); the browser is told to accept it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { EmbeddedCluster } from '../src/index.js';
import { makeCa, type TestCa } from './certs.js';
import { startCluster, tempDir, uniqueName } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let dir: Awaited<ReturnType<typeof tempDir>>;
let certs: TestCa;
let cluster: EmbeddedCluster;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: npm test installs Debian's chromium, or set CHROMIUM_PATH`);
  dir = await tempDir();
  certs = makeCa(['gateway']);
  cluster = await startCluster(join(dir.path, 'browser-tls.db'), { tls: { certFile: certs.file('gateway.pem'), keyFile: certs.file('gateway.key') } });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await cluster?.close();
  certs?.remove();
  await dir?.remove();
});

test('the demo over https: the page logs in and plays over wss', async () => {
  assert.match(cluster.url, /^https:/);
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${cluster.url}/`);
  await page.fill('#username', uniqueName('webtls'));
  await page.fill('#password', 'correct-horse-1');
  await page.click('#register');
  await page.waitForFunction("document.getElementById('status')?.textContent?.startsWith('playing as') === true", null, { timeout: 10_000 });
  assert.ok(sockets.length > 0 && sockets.every((u) => u.startsWith(`wss://127.0.0.1:${cluster.gateway.port}/ws?`)), sockets.join(', '));
  assert.equal(cluster.gateway.connections, 1);
  assert.deepEqual(errors, []);
  await context.close();
});
