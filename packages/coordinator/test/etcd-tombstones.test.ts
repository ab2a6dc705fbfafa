/**
 * The etcd coordinator's local view must not grow with every key ever deleted: a member that
 * leaves, a served placement request, a dead leader's election key each leave a tombstone
 * (so that a late watch event cannot bring the key back), and tombstones are forgotten after
 * `tombstoneTtlMs`. Found by the soak bench: before, a long-lived process kept one per key
 * ever deleted. Real etcd (GOS_TEST_ETCD_URL, started by scripts/test.sh).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { CodedError } from '@gos/schema';
import { EtcdCoordinator } from '../src/index.js';

const ETCD = process.env.GOS_TEST_ETCD_URL ?? 'http://127.0.0.1:2379';
const prefix = `gos-test-tomb-${randomBytes(4).toString('hex')}/`;

after(async () => {
  const client = new Etcd3({ hosts: [ETCD] });
  await client.delete().prefix(prefix).exec();
  client.close();
});

test('etcd: tombstones of deleted keys are forgotten after tombstoneTtlMs', async () => {
  let clock = 1_000_000;
  const c = new EtcdCoordinator({ hosts: [ETCD], prefix, leaseTtlSeconds: 2, tombstoneTtlMs: 60_000, now: () => clock });
  await c.start();
  try {
    // 40 members join and leave: 40 deleted keys.
    for (let i = 0; i < 40; i++) {
      const handle = await c.membership.register({ id: `engine-${i}`, role: 'engine', address: `127.0.0.1:${1000 + i}`, capacity: 10 });
      await handle.leave();
    }
    assert.equal(c.viewStats().members, 0);
    assert.equal(c.viewStats().tombstones, 40, 'each deleted key is remembered for a while');

    // A newer put of a deleted key is not buried by its tombstone.
    const late = await c.membership.register({ id: 'engine-0', role: 'engine', address: '127.0.0.1:1000', capacity: 10 });
    assert.ok(c.membership.get('engine-0') !== undefined, 'a newer put brings the key back');
    await late.leave();

    // A minute and a bit later, the next delete sweeps every tombstone older than the TTL.
    clock += 61_000;
    const next = await c.membership.register({ id: 'engine-new', role: 'engine', address: '127.0.0.1:2000', capacity: 10 });
    await next.leave();
    assert.deepEqual(c.viewStats(), { members: 0, placements: 0, requests: 0, candidates: 0, tombstones: 1 });
  } finally {
    await c.close();
  }
});

test('etcd: tombstoneTtlMs below a second is refused with OPT_ERR_INVALID', () => {
  assert.throws(
    () => new EtcdCoordinator({ hosts: [ETCD], prefix, tombstoneTtlMs: 10 }),
    (err: unknown) => err instanceof CodedError && err.code === 'OPT_ERR_INVALID',
  );
});
