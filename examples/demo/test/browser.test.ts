/**
 * A real browser (Debian's Chromium driven by playwright-core) registers, logs in and walks its
 * own character: the server's snapshots must show it moving.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { EmbeddedCluster } from '../src/index.js';
import { startCluster, tempDir, uniqueName } from './helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let dir: Awaited<ReturnType<typeof tempDir>>;
let cluster: EmbeddedCluster;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: npm test installs Debian's chromium, or set CHROMIUM_PATH`);
  dir = await tempDir();
  cluster = await startCluster(join(dir.path, 'browser.db'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await cluster?.close();
  await dir?.remove();
});

interface DemoView {
  me(): { id: string; x: number; y: number } | null;
  seen(): Record<string, { x: number; y: number }>;
}

test('register, log in and see your own character move', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${cluster.url}/`);
  await page.fill('#username', uniqueName('web'));
  await page.fill('#password', 'correct-horse-1');
  await page.click('#register');
  await page.waitForFunction("document.getElementById('status')?.textContent?.startsWith('playing as') === true", null, { timeout: 10_000 });
  assert.equal(await page.isVisible('#world'), true);

  const start = await page.evaluate(() => (globalThis as unknown as { gosDemo: DemoView }).gosDemo.me());
  assert.ok(start !== null);
  const goRight = start.x < 800;
  // The key is held until the server's snapshot of our own player shows the move.
  await page.keyboard.down(goRight ? 'ArrowRight' : 'ArrowLeft');
  await page.waitForFunction(
    ([id, x0, right]) => {
      const seen = (globalThis as unknown as { gosDemo: DemoView }).gosDemo.seen()[id];
      return seen !== undefined && (right ? seen.x > (x0) + 50 : seen.x < (x0) - 50);
    },
    [start.id, start.x, goRight] as const,
    { timeout: 5000 },
  );
  await page.keyboard.up(goRight ? 'ArrowRight' : 'ArrowLeft');
  assert.deepEqual(errors, []);
  await page.close();
});

test('walk into the portal: the page follows the player to world:2 and draws the new map', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${cluster.url}/`);
  await page.click('#guest');
  await page.waitForFunction("document.getElementById('status')?.textContent?.startsWith('playing as') === true", null, { timeout: 10_000 });
  const view = (): Promise<{ sceneId: string; me: { x: number; y: number } | null }> =>
    page.evaluate(() => {
      const demo = (globalThis as unknown as { gosDemo: DemoView & { sceneId(): string } }).gosDemo;
      return { sceneId: demo.sceneId(), me: demo.me() };
    });
  assert.equal((await view()).sceneId, 'world:1');
  // Click the east portal (960, 500 in world units): the client walks there, the server sends it through.
  const box = (await page.locator('#world').boundingBox())!;
  await page.mouse.click(box.x + (960 / 1000) * box.width, box.y + (500 / 1000) * box.height);
  await page.waitForFunction(() => (globalThis as unknown as { gosDemo: { sceneId(): string } }).gosDemo.sceneId() === 'world:2', null, { timeout: 15_000 });
  // The new map's Welcome put the player at the portal's exit.
  await page.waitForFunction(
    () => {
      const me = (globalThis as unknown as { gosDemo: DemoView }).gosDemo.me();
      return me !== null && Math.abs(me.x - 90) < 1 && Math.abs(me.y - 500) < 1;
    },
    null,
    { timeout: 5000 },
  );
  assert.deepEqual(errors, []);
  await page.close();
});
