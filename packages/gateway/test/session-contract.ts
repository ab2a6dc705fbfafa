import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SESSION_TOKEN_BYTES, isWellFormedSessionToken, type SessionStore } from '../src/session/index.js';

/** A started store plus a way to let time pass: an injected clock, or real waiting. */
export interface SessionStoreFixture {
  readonly store: SessionStore;
  advance(ms: number): Promise<void>;
  /** Release whatever the fixture holds besides the store (the store itself is closed by the suite). */
  dispose?(): Promise<void>;
}

export type SessionStoreFactory = (options: { ttlMs: number }) => Promise<SessionStoreFixture>;

const input = (accountId: string) => ({ accountId, username: `user-${accountId}`, sceneId: 'world:1' });

/**
 * The behaviour every SessionStore must have. `ttlMs` is the sliding lifetime the suite asks
 * for in its expiry tests; with real waiting it must leave room for scheduling delays.
 */
export function runSessionStoreContract(name: string, make: SessionStoreFactory, ttlMs = 300): void {
  async function withStore(o: { ttlMs: number }, body: (f: SessionStoreFixture) => Promise<void>): Promise<void> {
    const f = await make(o);
    try {
      await body(f);
    } finally {
      await f.store.close();
      await f.dispose?.();
    }
  }
  const long = { ttlMs: 60_000 };

  test(`${name}: create then get returns the session`, () =>
    withStore(long, async ({ store }) => {
      const before = Date.now();
      const { session, replaced } = await store.create(input('a1'));
      assert.equal(replaced, null);
      assert.equal(session.accountId, 'a1');
      assert.equal(session.username, 'user-a1');
      assert.equal(session.sceneId, 'world:1');
      assert.equal(session.groupId, null);
      assert.equal(session.expiresAt - session.createdAt, 60_000);
      assert.ok(Math.abs(session.createdAt - before) < 5_000, 'createdAt is a time in ms since the epoch');
      assert.ok(Object.isFrozen(session));
      const got = await store.get(session.token);
      assert.ok(got !== null);
      assert.equal(got.token, session.token);
      assert.equal(got.accountId, 'a1');
      assert.equal(got.username, 'user-a1');
      assert.equal(got.sceneId, 'world:1');
      assert.equal(got.groupId, null);
      assert.equal(got.createdAt, session.createdAt);
      assert.ok(got.expiresAt >= session.expiresAt);
    }));

  test(`${name}: unknown and malformed tokens are null, never an error`, () =>
    withStore(long, async ({ store }) => {
      const { session } = await store.create(input('a2'));
      const other = session.token.slice(0, -1) + (session.token.endsWith('A') ? 'B' : 'A');
      for (const t of [other, '', 'short', `${session.token}x`, 'é'.repeat(43), '../../etc']) {
        assert.equal(await store.get(t), null, t);
        assert.equal(await store.touch(t), false, t);
        await store.revoke(t);
      }
      assert.ok((await store.get(session.token)) !== null);
    }));

  test(`${name}: tokens carry at least 128 random bits, base64url, all distinct`, () =>
    withStore(long, async ({ store }) => {
      assert.ok(SESSION_TOKEN_BYTES * 8 >= 128);
      const tokens = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const { session } = await store.create(input(`entropy-${i}`));
        assert.match(session.token, /^[A-Za-z0-9_-]+$/);
        assert.ok(Buffer.from(session.token, 'base64url').length >= 16);
        assert.ok(isWellFormedSessionToken(session.token));
        tokens.add(session.token);
      }
      assert.equal(tokens.size, 50);
      // Roughly uniform characters: a constant or counter-based token would fail this.
      const chars = new Set([...tokens].join(''));
      assert.ok(chars.size > 50, `only ${chars.size} distinct characters`);
    }));

  test(`${name}: sliding expiry extends on get and expires when idle`, () =>
    withStore({ ttlMs }, async ({ store, advance }) => {
      const { session } = await store.create(input('slide'));
      const step = Math.round(ttlMs * 0.6);
      await advance(step);
      const first = await store.get(session.token);
      assert.ok(first !== null, 'alive within the ttl');
      assert.ok(first.expiresAt > session.expiresAt, 'get extends expiresAt');
      await advance(step);
      // 1.2 × ttl after creation: only alive because the get above slid the expiry.
      const second = await store.get(session.token);
      assert.ok(second !== null, 'alive past the original expiry thanks to the get');
      await advance(ttlMs + step);
      assert.equal(await store.get(session.token), null, 'expired after ttl without activity');
      assert.equal(await store.touch(session.token), false);
    }));

  test(`${name}: touch extends without reading`, () =>
    withStore({ ttlMs }, async ({ store, advance }) => {
      const { session } = await store.create(input('touch'));
      const step = Math.round(ttlMs * 0.6);
      await advance(step);
      assert.equal(await store.touch(session.token), true);
      await advance(step);
      assert.equal(await store.touch(session.token), true, 'alive past the original expiry thanks to touch');
      const got = await store.get(session.token);
      assert.ok(got !== null);
      await advance(ttlMs + step);
      assert.equal(await store.touch(session.token), false);
    }));

  test(`${name}: an expired session does not count as replaced`, () =>
    withStore({ ttlMs }, async ({ store, advance }) => {
      const { session } = await store.create(input('expired-then-login'));
      await advance(ttlMs * 2);
      const second = await store.create(input('expired-then-login'));
      assert.equal(second.replaced, null);
      assert.equal(await store.get(session.token), null);
      assert.ok((await store.get(second.session.token)) !== null);
    }));

  test(`${name}: revoke invalidates the token and is idempotent`, () =>
    withStore(long, async ({ store }) => {
      const { session } = await store.create(input('rev'));
      const keep = await store.create(input('rev-other'));
      await store.revoke(session.token);
      await store.revoke(session.token);
      assert.equal(await store.get(session.token), null);
      assert.equal(await store.touch(session.token), false);
      await assert.rejects(store.setScene(session.token, 'world:2'), { code: 'GW_ERR_SESSION_EXPIRED' });
      assert.ok((await store.get(keep.session.token)) !== null, 'other accounts untouched');
      // The account can log in again and nothing is reported as replaced.
      const again = await store.create(input('rev'));
      assert.equal(again.replaced, null);
    }));

  test(`${name}: a second create for the account replaces the first`, () =>
    withStore(long, async ({ store }) => {
      const first = await store.create(input('dup'));
      const second = await store.create(input('dup'));
      assert.equal(second.replaced, first.session.token);
      assert.notEqual(second.session.token, first.session.token);
      assert.equal(await store.get(first.session.token), null);
      assert.ok((await store.get(second.session.token)) !== null);
      // Revoking the replaced token must not touch the live one.
      await store.revoke(first.session.token);
      assert.ok((await store.get(second.session.token)) !== null);
      const third = await store.create(input('dup'));
      assert.equal(third.replaced, second.session.token);
    }));

  test(`${name}: concurrent creates for one account leave exactly one valid session`, () =>
    withStore(long, async ({ store }) => {
      const results = await Promise.all(Array.from({ length: 20 }, () => store.create(input('race'))));
      const valid: string[] = [];
      for (const r of results) if ((await store.get(r.session.token)) !== null) valid.push(r.session.token);
      assert.equal(valid.length, 1);
      // Every other token was reported as replaced exactly once; one create found nothing.
      const replaced = results.map((r) => r.replaced);
      assert.equal(replaced.filter((t) => t === null).length, 1);
      const losers = results.map((r) => r.session.token).filter((t) => t !== valid[0]);
      assert.deepEqual(replaced.filter((t) => t !== null).sort(), losers.sort());
    }));

  test(`${name}: setScene changes the scene and keeps the rest`, () =>
    withStore(long, async ({ store }) => {
      const { session } = await store.create(input('scene'));
      await store.setScene(session.token, 'dungeon:7');
      const got = await store.get(session.token);
      assert.equal(got?.sceneId, 'dungeon:7');
      assert.equal(got?.accountId, 'scene');
      assert.equal(got?.createdAt, session.createdAt);
      await assert.rejects(store.setScene('not-a-token', 'x'), { code: 'GW_ERR_SESSION_EXPIRED' });
    }));

  test(`${name}: locate gives a live session's scene and the gateway its socket connected to, and extends nothing`, () =>
    withStore({ ttlMs }, async ({ store, advance }) => {
      assert.equal(await store.locate('nobody'), null);
      assert.equal(await store.locate(''), null);
      const { session } = await store.create(input('where'));
      assert.deepEqual(await store.locate('where'), { sceneId: 'world:1', gatewayId: null }, 'not connected yet');
      await store.get(session.token, { gatewayId: 'gateway-2' });
      await store.setScene(session.token, 'dungeon:3');
      assert.deepEqual(await store.locate('where'), { sceneId: 'dungeon:3', gatewayId: 'gateway-2' });
      // A plain get (or touch) keeps the gateway.
      await store.get(session.token);
      await store.touch(session.token);
      assert.deepEqual(await store.locate('where'), { sceneId: 'dungeon:3', gatewayId: 'gateway-2' });
      // A new login replaces the old session: its presence starts again.
      const next = await store.create({ ...input('where'), sceneId: 'world:2' });
      assert.deepEqual(await store.locate('where'), { sceneId: 'world:2', gatewayId: null });
      // locate does not keep a session alive: past its ttl it is gone.
      for (let i = 0; i < 3; i++) {
        await advance(Math.round(ttlMs * 0.5));
        await store.locate('where');
      }
      assert.equal(await store.locate('where'), null);
      assert.equal(await store.get(next.session.token), null);
      const revoked = await store.create(input('revoked'));
      await store.revoke(revoked.session.token);
      assert.equal(await store.locate('revoked'), null);
    }));

  test(`${name}: close is idempotent and later calls fail with GW_ERR_SESSION_STORE`, async () => {
    const { store, dispose } = await make(long);
    try {
      const { session } = await store.create(input('closing'));
      await Promise.all([store.close(), store.close()]);
      await store.close();
      const code = { code: 'GW_ERR_SESSION_STORE' };
      await assert.rejects(store.get(session.token), code);
      await assert.rejects(store.create(input('closing')), code);
      await assert.rejects(store.touch(session.token), code);
      await assert.rejects(store.revoke(session.token), code);
      await assert.rejects(store.setScene(session.token, 'x'), code);
      await assert.rejects(store.groupGateway('g'), code);
      await assert.rejects(store.assignGroupGateway('g', 'gw-a', null), code);
      await assert.rejects(store.start(), code);
    } finally {
      await store.close();
      await dispose?.();
    }
  });

  // ---- group → gateway assignment ----

  test(`${name}: a group has no gateway until one is assigned; the first assignment wins`, () =>
    withStore(long, async ({ store }) => {
      assert.equal(await store.groupGateway('guild-1'), null);
      assert.equal(await store.assignGroupGateway('guild-1', 'gw-a', null), 'gw-a');
      assert.equal(await store.groupGateway('guild-1'), 'gw-a');
      // Set-if-absent: a second login that also found no gateway is told the first one's.
      assert.equal(await store.assignGroupGateway('guild-1', 'gw-b', null), 'gw-a');
      assert.equal(await store.groupGateway('guild-1'), 'gw-a');
      // Groups are independent, and compared exactly.
      assert.equal(await store.groupGateway('guild-2'), null);
      assert.equal(await store.groupGateway('Guild-1'), null);
      assert.equal(await store.assignGroupGateway('guild-2', 'gw-b', null), 'gw-b');
      assert.equal(await store.groupGateway('guild-1'), 'gw-a');
    }));

  test(`${name}: a group's gateway is replaced only when it is still the one the caller replaces`, () =>
    withStore(long, async ({ store }) => {
      assert.equal(await store.assignGroupGateway('party:7', 'gw-a', null), 'gw-a');
      // The caller saw another gateway (stale): nothing changes.
      assert.equal(await store.assignGroupGateway('party:7', 'gw-b', 'gw-x'), 'gw-a');
      // The caller found gw-a gone or full: replaced.
      assert.equal(await store.assignGroupGateway('party:7', 'gw-b', 'gw-a'), 'gw-b');
      // A second caller that also found gw-a unusable is told what the first one chose.
      assert.equal(await store.assignGroupGateway('party:7', 'gw-c', 'gw-a'), 'gw-b');
      assert.equal(await store.groupGateway('party:7'), 'gw-b');
      // Replacing a gateway of a group that has none (it expired meanwhile) assigns.
      assert.equal(await store.assignGroupGateway('party:8', 'gw-c', 'gw-a'), 'gw-c');
    }));

  test(`${name}: concurrent assignments of one group all agree on one gateway`, () =>
    withStore(long, async ({ store }) => {
      const first = await Promise.all(Array.from({ length: 20 }, (_, i) => store.assignGroupGateway('race', `gw-${i}`, null)));
      assert.equal(new Set(first).size, 1, first.join());
      const [winner] = first as [string];
      // Everyone found the winner unusable at once: exactly one replacement wins.
      const second = await Promise.all(Array.from({ length: 20 }, (_, i) => store.assignGroupGateway('race', `gw-new-${i}`, winner)));
      assert.equal(new Set(second).size, 1, second.join());
      assert.notEqual(second[0], winner);
      assert.equal(await store.groupGateway('race'), second[0]);
    }));

  test(`${name}: a group's gateway expires ttlMs after its last use; each use extends it`, () =>
    withStore({ ttlMs }, async ({ store, advance }) => {
      const step = Math.round(ttlMs * 0.6);
      assert.equal(await store.assignGroupGateway('idle', 'gw-a', null), 'gw-a');
      await advance(step);
      assert.equal(await store.groupGateway('idle'), 'gw-a', 'alive within the ttl; the lookup extends it');
      await advance(step);
      // 1.2 × ttl after the assignment: only alive because the lookup slid it.
      assert.equal(await store.assignGroupGateway('idle', 'gw-b', null), 'gw-a', 'an assignment that keeps the current gateway extends it too');
      await advance(step);
      assert.equal(await store.groupGateway('idle'), 'gw-a');
      await advance(ttlMs + step);
      assert.equal(await store.groupGateway('idle'), null, 'expired after ttl without use');
      assert.equal(await store.assignGroupGateway('idle', 'gw-b', null), 'gw-b', 'an expired group is assigned afresh');
    }));

  test(`${name}: a live session of a group member keeps the group's gateway`, () =>
    withStore({ ttlMs }, async ({ store, advance }) => {
      const step = Math.round(ttlMs * 0.6);
      const member = await store.create({ ...input('member'), groupId: 'guild-live' });
      assert.equal(member.session.groupId, 'guild-live');
      assert.equal((await store.get(member.session.token))?.groupId, 'guild-live');
      const loner = await store.create({ ...input('loner'), groupId: null });
      assert.equal(loner.session.groupId, null);
      assert.equal(await store.assignGroupGateway('guild-live', 'gw-a', null), 'gw-a');
      assert.equal(await store.assignGroupGateway('guild-idle', 'gw-a', null), 'gw-a');
      // Only the member's session is used (a connected socket touches it); nobody looks the
      // groups up, yet the member's group keeps its gateway past its own ttl.
      for (let i = 0; i < 3; i++) {
        await advance(step);
        assert.equal(await store.touch(member.session.token), true);
      }
      assert.ok((await store.get(member.session.token)) !== null);
      assert.equal(await store.groupGateway('guild-live'), 'gw-a');
      assert.equal(await store.groupGateway('guild-idle'), null, 'a group without live members expires');
      await assert.rejects(store.create({ ...input('bad'), groupId: 'not a group' }), { code: 'OPT_ERR_INVALID' });
    }));

  test(`${name}: malformed group and gateway ids are OPT_ERR_INVALID`, () =>
    withStore(long, async ({ store }) => {
      const bad = { code: 'OPT_ERR_INVALID' };
      for (const groupId of ['', 'x'.repeat(65), 'with space', 'é', 'a/b', '*', 42]) {
        await assert.rejects(store.groupGateway(groupId as string), bad, String(groupId));
        await assert.rejects(store.assignGroupGateway(groupId as string, 'gw-a', null), bad, String(groupId));
      }
      await assert.rejects(store.assignGroupGateway('g', '', null), bad);
      await assert.rejects(store.assignGroupGateway('g', 'gw-a', ''), bad);
      await assert.rejects(store.assignGroupGateway('g', 7 as unknown as string, null), bad);
      assert.equal(await store.groupGateway('g'), null, 'nothing was assigned');
      assert.equal(await store.groupGateway('x'.repeat(64)), null, '64 characters is a group id');
    }));

  test(`${name}: a flood cool-down belongs to the account: every session of it reports the time left, until it ends`, () =>
    withStore({ ttlMs: 60_000 }, async ({ store, advance }) => {
      const { session } = await store.create(input('flooder'));
      const other = await store.create(input('bystander'));
      assert.equal(session.floodCooldownMs, 0);
      assert.equal((await store.get(session.token))?.floodCooldownMs, 0);
      await store.coolDown('flooder', ttlMs);
      const cooling = await store.get(session.token);
      assert.ok(cooling !== null && cooling.floodCooldownMs > 0 && cooling.floodCooldownMs <= ttlMs, `${String(cooling?.floodCooldownMs)} ms left`);
      assert.equal((await store.get(other.session.token))?.floodCooldownMs, 0, 'other accounts are not cooling down');
      // Logging in again (a new session) does not end it.
      const again = await store.create(input('flooder'));
      assert.ok(((await store.get(again.session.token))?.floodCooldownMs ?? 0) > 0);
      await advance(ttlMs + Math.round(ttlMs * 0.5));
      assert.equal((await store.get(again.session.token))?.floodCooldownMs, 0, 'over once its time has passed');
      const bad = { code: 'OPT_ERR_INVALID' };
      await assert.rejects(store.coolDown('', 1000), bad);
      await assert.rejects(store.coolDown('flooder', 0), bad);
      await assert.rejects(store.coolDown('flooder', 1.5), bad);
    }));
}
