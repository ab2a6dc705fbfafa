/**
 * The coordinator contract on a real etcd (GOS_TEST_ETCD_URL, started by scripts/test.sh).
 * Every coordinator gets its own key prefix, removed afterwards.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { waitFor } from '@gos/testing';
import { CoordinatorNode, EtcdCoordinator } from '../src/index.js';
import { runCoordinatorContract } from './contract.js';

const ETCD = process.env.GOS_TEST_ETCD_URL ?? 'http://127.0.0.1:2379';
const prefixes: string[] = [];

function prefix(): string {
  const p = `gos-test-${randomBytes(4).toString('hex')}/`;
  prefixes.push(p);
  return p;
}

after(async () => {
  const client = new Etcd3({ hosts: [ETCD] });
  for (const p of prefixes) await client.delete().prefix(p).exec();
  client.close();
});

runCoordinatorContract('etcd', async (options) => {
  const c = new EtcdCoordinator({ hosts: [ETCD], prefix: prefix(), leaseTtlSeconds: 2, ...options });
  await c.start();
  return c;
});

test('etcd: two coordinators on one prefix share members and placement through watches', async () => {
  const p = prefix();
  const a = new EtcdCoordinator({ hosts: [ETCD], prefix: p, leaseTtlSeconds: 2 });
  const b = new EtcdCoordinator({ hosts: [ETCD], prefix: p, leaseTtlSeconds: 2 });
  // The leader runs on a third coordinator: requests and placements cross etcd both ways.
  const l = new EtcdCoordinator({ hosts: [ETCD], prefix: p, leaseTtlSeconds: 2 });
  await a.start();
  await b.start();
  await l.start();
  const leader = new CoordinatorNode({ id: 'coordinator-1', coordinator: l });
  await leader.start();
  try {
    await a.membership.register({ id: 'engine-x', role: 'engine', address: '127.0.0.1:9', capacity: 100 });
    await waitFor(() => l.membership.get('engine-x') !== undefined, { timeoutMs: 8000, message: 'the leader\'s view to list engine-x' });
    const placed = await a.placement.ensure('world:9');
    // An authoritative read sees it at once, whether or not b's watch has delivered it yet.
    assert.deepEqual(await b.placement.fetch('world:9'), placed);
    await waitFor(() => b.placement.lookup('world:9') !== undefined && b.membership.get('engine-x') !== undefined, { timeoutMs: 3000, message: 'b\'s watches to deliver engine-x and world:9' });
    assert.equal(b.membership.get('engine-x')?.address, '127.0.0.1:9');
    assert.deepEqual(b.placement.lookup('world:9'), placed);
    // Both agree on one engine even when both place at once.
    const [x, y] = await Promise.all([a.placement.ensure('world:10'), b.placement.ensure('world:10')]);
    assert.equal(x.epoch, y.epoch);
    // Served requests are deleted; the leader's view learns it through its watch (a moment later under load).
    await waitFor(() => l.placement.requests().length === 0, { timeoutMs: 5000, message: 'served requests deleted from the leader\'s view' });
    assert.deepEqual(l.placement.requests(), [], 'served requests are deleted');
  } finally {
    await leader.close();
    await a.close();
    await b.close();
    await l.close();
  }
});

test('etcd: a member whose lease is lost (revoked behind its back) registers again under a new lease', async () => {
  const p = prefix();
  const a = new EtcdCoordinator({ hosts: [ETCD], prefix: p, leaseTtlSeconds: 2 });
  const observer = new EtcdCoordinator({ hosts: [ETCD], prefix: p, leaseTtlSeconds: 2 });
  await a.start();
  await observer.start();
  const client = new Etcd3({ hosts: [ETCD] });
  try {
    const events: string[] = [];
    observer.membership.watch((e) => events.push(`${e.type}:${e.member.id}`));
    const handle = await a.membership.register({ id: 'engine-z', role: 'engine', address: '127.0.0.1:7', capacity: 100 });
    assert.deepEqual(a.membership.leases(), { held: 1, lost: 0, losses: 0 });
    assert.deepEqual(observer.membership.leases(), { held: 0, lost: 0, losses: 0 }, 'only the members registered through a view count');
    await waitFor(() => observer.membership.get('engine-z') !== undefined, { timeoutMs: 8000, message: 'the observer to see engine-z' });
    const kv = (await client.getAll().prefix(`${p}members/`).exec()).kvs.find((k) => k.key.toString().endsWith('engine-z'));
    assert.ok(kv !== undefined && kv.lease !== '0');
    await client.leaseClient.leaseRevoke({ ID: kv.lease });
    await waitFor(() => events.includes('down:engine-z') && observer.membership.get('engine-z') !== undefined, { timeoutMs: 8000, message: 'engine-z to go down and register again' });
    assert.deepEqual(events.slice(-2), ['down:engine-z', 'up:engine-z']);
    const again = (await client.getAll().prefix(`${p}members/`).exec()).kvs.find((k) => k.key.toString().endsWith('engine-z'));
    assert.ok(again !== undefined && again.lease !== kv.lease, 'under a new lease');
    await waitFor(() => a.membership.leases().held === 1, { timeoutMs: 8000, message: 'the lease state to show engine-z registered again' });
    assert.deepEqual(a.membership.leases(), { held: 1, lost: 0, losses: 1 });
    await handle.leave();
    assert.deepEqual(a.membership.leases(), { held: 0, lost: 0, losses: 1 });
  } finally {
    client.close();
    await a.close();
    await observer.close();
  }
});

test('etcd: candidates campaigning at once on an empty election agree on one leader, which knows it', async () => {
  // etcd3's ElectionObserver, starting with no candidate, took the last key of its first watch
  // batch as leader: the real leader could believe another one led, and nobody did the work.
  for (let round = 0; round < 5; round++) {
    const p = prefix();
    const cs = [0, 1, 2].map(() => new EtcdCoordinator({ hosts: [ETCD], prefix: p, leaseTtlSeconds: 2 }));
    await Promise.all(cs.map((c) => c.start()));
    try {
      const ids = ['c-0', 'c-1', 'c-2'];
      const campaigns = cs.map((c, i) => c.election.campaign(ids[i]!));
      const winner = await Promise.race(campaigns.map((c, i) => c.then(() => i)));
      await waitFor(() => cs.every((c) => c.election.leader() === ids[winner]), { timeoutMs: 3000, message: `round ${round}: everyone to see ${ids[winner]} lead` });
      assert.deepEqual(cs.map((c) => c.election.leader()), [ids[winner], ids[winner], ids[winner]], `round ${round}: everyone sees ${ids[winner]}`);
      assert.deepEqual(cs.map((c, i) => c.election.isLeader(ids[i]!)), ids.map((_, i) => i === winner), `round ${round}: only the winner leads`);
      // Standing again while standing joins the same campaign (no second key queued behind the first).
      await cs[winner]!.election.campaign(ids[winner]!);
      // The winner resigns: the next one takes over and everyone sees it.
      await cs[winner]!.election.resign(ids[winner]!);
      const next = await Promise.race(campaigns.filter((_, i) => i !== winner).map((c, k) => c.then(() => k)));
      assert.ok(next >= 0);
      const successor = cs.findIndex((c, i) => i !== winner && c.election.isLeader(ids[i]!));
      assert.notEqual(successor, -1, `round ${round}: a successor leads`);
      await waitFor(() => cs.every((c) => c.election.leader() === ids[successor]), { timeoutMs: 3000, message: `round ${round}: everyone to see the successor ${ids[successor]} lead` });
      assert.deepEqual(cs.map((c) => c.election.leader()), [ids[successor], ids[successor], ids[successor]], `round ${round}: everyone sees the successor`);
    } finally {
      await Promise.all(cs.map((c) => c.close()));
    }
  }
});

test('etcd: a burst of load figures is written as two puts, and the last figure wins', async () => {
  const p = prefix();
  const a = new EtcdCoordinator({ hosts: [ETCD], prefix: p, leaseTtlSeconds: 2, loadPublishIntervalMs: 50 });
  await a.start();
  const client = new Etcd3({ hosts: [ETCD] });
  try {
    const member = await a.membership.register({ id: 'gateway-x', role: 'gateway', address: 'ws://127.0.0.1:9/ws', capacity: 100 });
    let last: Promise<void> = Promise.resolve();
    // One socket opening after another: a figure per socket.
    for (let load = 1; load <= 100; load++) last = member.setLoad(load);
    await last;
    assert.equal(member.info.load, 100);
    const kv = (await client.get(`${p}members/gateway-x`).exec()).kvs[0];
    assert.ok(kv !== undefined);
    assert.equal((JSON.parse(kv.value.toString()) as { load: number }).load, 100);
    // Created by register (version 1), then the first figure at once and the latest after it.
    assert.equal(Number(kv.version), 3);
    // Later figures are written again.
    await member.setLoad(7);
    const again = (await client.get(`${p}members/gateway-x`).exec()).kvs[0];
    assert.equal((JSON.parse(again!.value.toString()) as { load: number }).load, 7);
  } finally {
    client.close();
    await a.close();
  }
});

test('etcd: a member whose process is killed (SIGKILL) disappears within the lease TTL', async () => {
  const p = prefix();
  const observer = new EtcdCoordinator({ hosts: [ETCD], prefix: p, leaseTtlSeconds: 1 });
  await observer.start();
  const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/member-process.js', import.meta.url)), ETCD, p, 'engine-doomed'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`member process exited with ${code}`)));
    });
    await waitFor(() => observer.membership.get('engine-doomed') !== undefined, { timeoutMs: 3000, message: 'the observer to see the member' });
    const t0 = Date.now();
    const down = new Promise<number>((resolve) => {
      observer.membership.watch((e) => {
        if (e.type === 'down' && e.member.id === 'engine-doomed') resolve(Date.now() - t0);
      });
    });
    child.kill('SIGKILL');
    const ms = await down;
    // TTL 1 s; etcd may take up to about twice the TTL to expire a lease.
    assert.ok(ms < 4000, `down after ${ms} ms`);
  } finally {
    child.kill('SIGKILL');
    await observer.close();
  }
});
