/**
 * Game services across engine processes (docs/mail.md, docs/config-data.md), on real etcd, Redis
 * and MariaDB (a database of its own): a mail's coins claimed again and again while its scene
 * moves live from one engine process to the other are granted once; a config bundle published
 * while scenes run on both engine processes is in force on both within 2 s.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import { AdminClient, readLinkTls, readStatus } from '@gos/cluster';
import { ErrorCodes } from '@gos/schema';
import { createStore, type Store } from '@gos/store';
import { waitFor } from '@gos/testing';
import { SHIPPED_CONFIG } from '../src/cluster.js';
import { BIN, guestPlayer, hostOf, loadPublished, runNode, testCluster, type TestCluster } from './cluster-helpers.js';
import { scratchDatabase } from './helpers.js';

const db = await scratchDatabase('services');
const cluster = await testCluster({ leaseTtlSeconds: 5, persistIntervalMs: 500, mysqlUrl: db.url });
let store: Store | null = null;
after(async () => {
  await store?.close();
  await cluster.cleanup();
  await db.drop();
});

async function openStore(): Promise<Store> {
  store ??= createStore({ kind: 'mysql', url: db.url, autoMigrate: true });
  await store.start();
  return store;
}

/** Run a REPL command on engine `engineId` (a writing credential). */
async function onEngine(c: TestCluster, engineId: string, command: string, args: unknown[]): Promise<unknown> {
  const member = (await readStatus(c.config)).members.find((m) => m.role === 'engine' && m.id === engineId);
  assert.ok(member !== undefined, `engine ${engineId} in the cluster`);
  const cred = c.config.admin.credentials[0]!;
  const admin = new AdminClient({ address: member.address, engineId, clusterSecret: c.config.cluster.secret, tls: readLinkTls(c.config), user: cred.name, secret: cred.secret, write: true });
  try {
    await admin.connect();
    return await admin.command(command, args);
  } finally {
    await admin.close();
  }
}

test('a mail claimed again and again while its scene moves live to the other engine process is granted once', { timeout: 120_000 }, async () => {
  const { baseUrl, engines } = await cluster.startRoles({ engines: 2 });
  const s = await openStore();
  const player = await guestPlayer(baseUrl);
  const welcome = await waitFor(async () => (await player.api.mailList({ before: 0 })).mails.find((m) => m.subject === 'Welcome!'), { timeoutMs: 10_000, message: 'the welcome mail' });
  const source = await hostOf(cluster.config, 'world:1');
  const target = engines.find((e) => e.id !== source)!;

  // The move, and claims of the same mail every 20 ms until it is over (and once more after).
  const outcomes: string[] = [];
  const claim = (): Promise<void> =>
    player.api.mailClaim({ mailId: welcome.mailId }).then(
      ({ coins }) => void outcomes.push(`ok:${coins}`),
      (err: { code?: string }) => void outcomes.push(err.code ?? String(err)),
    );
  const claims: Array<Promise<void>> = [claim()];
  let moving = true;
  const move = runNode([BIN.status, '--config', cluster.configFile, 'migrate', 'world:1', target.id, '--json']).finally(() => (moving = false));
  while (moving) {
    // A duration, not a condition: the pace of the claims while the move runs.
    await new Promise((r) => setTimeout(r, 20));
    claims.push(claim());
  }
  const moved = await move;
  assert.equal(moved.code, 0, `migrate: ${moved.stderr}`);
  await Promise.all(claims);
  await waitFor(async () => (await hostOf(cluster.config, 'world:1')) === target.id || undefined, { timeoutMs: 10_000, message: 'world:1 on the target' });
  await claim();

  const granted = outcomes.filter((o) => o.startsWith('ok:'));
  console.log(`${outcomes.length} claims across the move: ${granted.length} granted; the others ${[...new Set(outcomes.filter((o) => !o.startsWith('ok:')))].join(', ')}`);
  assert.deepEqual(granted, ['ok:100'], `granted once: ${outcomes.join(' ')}`);
  for (const o of outcomes) {
    assert.ok(o.startsWith('ok:') || [ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, ErrorCodes.MAIL_ERR_CLAIMING, ErrorCodes.GW_ERR_SCENE_MOVED, ErrorCodes.ENG_ERR_SCENE_MOVED].includes(o as never), `a coded refusal: ${o}`);
  }
  // In the store: claimed, and the coins saved once with the player.
  assert.notEqual((await s.mail.get(player.auth.accountId, welcome.mailId))?.claimedAt ?? null, null);
  const saved = await waitFor(async () => ((await s.loadPlayer(player.auth.accountId))?.data as { coins?: number } | undefined)?.coins, { timeoutMs: 10_000, message: 'the coins saved' });
  assert.equal(saved, 100);
  assert.equal((await player.api.mailList({ before: 0 })).coins, 100, 'the player on the target has them once');
  assert.doesNotMatch(cluster.logs(), /a mail claim was refused as it was written/);
  await player.client.close();
});

test('a config bundle published while scenes run on both engine processes is in force on both within 2 s', { timeout: 120_000 }, async () => {
  const s = await openStore();
  const a = await guestPlayer(await gatewayUrl());
  // world:1 is busy on one engine: the next scene goes to the other (the leader places by load).
  await loadPublished(cluster.config, 'world:1', 1);
  const traveller = await guestPlayer(await gatewayUrl());
  await traveller.api.travel({ sceneId: 'world:2', x: 100, y: 100 });
  await waitFor(async () => (await traveller.api.whoami({})).sceneId === 'world:2' || undefined, { timeoutMs: 10_000, message: 'the traveller in world:2' });
  const hosts = [await hostOf(cluster.config, 'world:1'), await hostOf(cluster.config, 'world:2')];
  assert.ok(hosts[0] !== undefined && hosts[1] !== undefined && hosts[0] !== hosts[1], `world:1 and world:2 on two engines: ${hosts.join(', ')}`);

  const shipped = JSON.parse(await readFile(SHIPPED_CONFIG, 'utf8')) as { version: string; globals: Record<string, unknown> };
  const version = `${shipped.version}-test-${Date.now().toString(36)}`;
  const bundle = { ...shipped, version, globals: { ...shipped.globals, motd: 'a new day' } };
  const publishedAt = Date.now();
  await s.configBundles.publish(version, JSON.stringify(bundle));
  for (const [i, sceneId] of ['world:1', 'world:2'].entries()) {
    await waitFor(async () => (await onEngine(cluster, hosts[i]!, 'eval', [sceneId, '(s) => s.configVersion'])) === version || undefined, { timeoutMs: 2000, intervalMs: 100, message: `${sceneId} on ${hosts[i]} switching to the new bundle` });
  }
  console.log(`config bundle in force on both engines ${Date.now() - publishedAt} ms after it was published`);
  // A player connecting now is welcomed with it.
  const late = await guestPlayer(await gatewayUrl());
  const motd = await waitFor(async () => (await onEngine(cluster, hosts[0]!, 'eval', ['world:1', '(s) => s.config && s.config.globals && s.config.globals.motd'])) || undefined, { timeoutMs: 2000, message: 'the motd' });
  assert.equal(motd, 'a new day');
  for (const p of [a, traveller, late]) await p.client.close();
});

/** The gateway's HTTP origin (started by the first test). */
async function gatewayUrl(): Promise<string> {
  const gateway = (await readStatus(cluster.config)).members.find((m) => m.role === 'gateway');
  assert.ok(gateway !== undefined, 'a gateway in the cluster');
  return gateway.address.replace(/^ws/, 'http').replace(/\/ws$/, '');
}
