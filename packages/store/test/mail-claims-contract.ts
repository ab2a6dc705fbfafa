import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@gos/schema';
import type { SaveEntry, SaveResult, Store } from '../src/index.js';
import { uniq, withFreshStore, withStore, type StoreFixture } from './contract-helpers.js';
import { GIFT, mailOf, T0 } from './mail-contract.js';

/** A player entry of a batch claiming `mailClaims`. */
const claiming = (id: string, expectedVersion: number, mailClaims: readonly number[], over: Partial<SaveEntry> = {}): SaveEntry => ({ kind: 'player', id, data: { by: id, expectedVersion }, expectedVersion, mailClaims, ...over });

function assertRefused(result: SaveResult | undefined, code: string): void {
  assert.ok(result !== undefined && !result.ok, `expected ${code}, got ${JSON.stringify(result)}`);
  assert.equal(result.error.code, code, result.error.message);
}

async function claimedAt(store: Store, playerId: string, mailId: number): Promise<number | null | undefined> {
  return (await store.mail.get(playerId, mailId))?.claimedAt;
}

/**
 * Saves claiming one mail for one player from many writers at once, each retrying as a persister
 * would after a stale write (reload the version, write again): exactly one may claim it. Writers
 * first expect versions ahead of the row's, so that several pass the version check one after the
 * other (each waiting for the row as the one before commits): with a claim that did not check
 * the mark under a lock, or did not check it at all, more than one would claim.
 */
async function raceClaims(store: Store, player: string, mailId: number, writers: number): Promise<void> {
  const start = (await store.loadPlayer(player))?.version ?? 0;
  const outcomes = await Promise.all(
    Array.from({ length: writers }, async (_, w): Promise<string> => {
      let expected = start + (w % 3);
      for (let attempt = 0; attempt < 100; attempt++) {
        const [r] = await store.saveBatch([claiming(player, expected, [mailId], { data: { writer: w } })]);
        if (r?.ok === true) return 'claimed';
        assert.ok(r !== undefined);
        if (r.error.code === ErrorCodes.MAIL_ERR_NOT_CLAIMABLE) return 'refused';
        assert.equal(r.error.code, ErrorCodes.STO_ERR_STALE_VERSION, r.error.message);
        expected = (await store.loadPlayer(player))?.version ?? 0;
      }
      return 'never settled';
    }),
  );
  assert.deepEqual(
    outcomes.filter((o) => o === 'claimed'),
    ['claimed'],
    `one claim: ${outcomes.join(', ')}`,
  );
  assert.equal(outcomes.filter((o) => o === 'refused').length, writers - 1);
  const row = await store.loadPlayer(player);
  assert.equal(row?.version, start + 1, 'only the claiming write was written');
  assert.equal(typeof (await claimedAt(store, player, mailId)), 'number');
}

/** The contract of `SaveEntry.mailClaims`; run from `runStoreContract` against every store. */
export function runMailClaimContract(name: string, fixture: StoreFixture): void {
  test(`${name}: a save claiming mail writes the row, its scene, its timers and the claim together; the claim time is the writer's clock`, () =>
    withStore(fixture, async (store) => {
      const p = `claimer-${uniq()}`;
      const m1 = await store.mail.send({ players: [p] }, mailOf({ attachments: GIFT }), T0);
      const m2 = await store.mail.send({ players: [p] }, mailOf({ attachments: '[]' }), T0);
      const timer = { name: 'daily', dueAt: T0 + 5, id: 't-1', payload: '{}' };
      const before = Date.now();
      const results = await store.saveBatch([claiming(p, 0, [m2, m1], { data: { gold: 5 }, sceneId: 'town', timers: { set: [timer], delete: [] } })]);
      const after = Date.now();
      assert.deepEqual(results, [{ ok: true, version: 1 }]);
      for (const m of [m1, m2]) {
        const at = await claimedAt(store, p, m);
        assert.ok(typeof at === 'number' && at >= before && at <= after, `claimedAt ${String(at)}`);
      }
      assert.deepEqual((await store.loadPlayer(p))?.data, { gold: 5 });
      assert.equal(await store.playerScene(p), 'town');
      assert.deepEqual(await store.loadTimers(`@${p}`), [timer]);
      const listed = await store.mail.list({ playerId: p, limit: 10 });
      assert.ok(
        listed.every((m) => m.claimedAt !== null && m.readAt === null),
        'claimed mail stays listed, unread',
      );
      // An empty list claims nothing and is an ordinary save.
      assert.deepEqual(await store.saveBatch([claiming(p, 1, [])]), [{ ok: true, version: 2 }]);
    }));

  test(`${name}: claiming a mail twice is refused with MAIL_ERR_NOT_CLAIMABLE and nothing of that entry is written; the batch's other entries are`, () =>
    withStore(fixture, async (store) => {
      const p = `twice-${uniq()}`;
      const o = `${p}-other`;
      const m = await store.mail.send({ players: [p] }, mailOf({ attachments: GIFT }), T0);
      const timer = { name: 'second', dueAt: T0, id: 't-2', payload: '{}' };
      const first = await store.saveBatch([
        claiming(p, 0, [m], { data: 'first' }),
        claiming(p, 1, [m], { data: 'second', sceneId: 'elsewhere', timers: { set: [timer], delete: [] } }),
        { kind: 'player', id: o, data: 'o', expectedVersion: 0 },
        { kind: 'scene', id: `${p}-scene`, data: 's', expectedVersion: 0 },
      ]);
      assert.deepEqual(first[0], { ok: true, version: 1 });
      assertRefused(first[1], ErrorCodes.MAIL_ERR_NOT_CLAIMABLE);
      assert.deepEqual(first.slice(2), [
        { ok: true, version: 1 },
        { ok: true, version: 1 },
      ]);
      const row = await store.loadPlayer(p);
      assert.deepEqual([row?.version, row?.data], [1, 'first']);
      assert.deepEqual(await store.loadTimers(`@${p}`), [], 'the refused entry wrote no timer');
      assert.equal(await store.playerScene(p), null, 'nor its scene');
      const at = await claimedAt(store, p, m);
      assert.equal(typeof at, 'number');
      // In a later batch too, with another entry written beside it.
      const later = await store.saveBatch([claiming(p, 1, [m], { timers: { set: [timer], delete: [] } }), { kind: 'player', id: o, data: 'o2', expectedVersion: 1 }]);
      assertRefused(later[0], ErrorCodes.MAIL_ERR_NOT_CLAIMABLE);
      assert.deepEqual(later[1], { ok: true, version: 2 });
      assert.equal((await store.loadPlayer(p))?.version, 1, 'version unchanged');
      assert.deepEqual(await store.loadTimers(`@${p}`), []);
      assert.equal(await claimedAt(store, p, m), at, 'the first claim stands');
      assert.equal(await store.savePlayer(p, 'third', 1), 2, 'the refusals changed nothing');
    }));

  test(`${name}: only the player's own mail with attachments is claimable; one unclaimable mail refuses the whole entry`, () =>
    withStore(fixture, async (store) => {
      const p = `picky-${uniq()}`;
      const q = `${p}-q`;
      const mine = await store.mail.send({ players: [p] }, mailOf({ attachments: GIFT }), T0);
      const theirs = await store.mail.send({ players: [q] }, mailOf({ attachments: GIFT }), T0);
      const bare = await store.mail.send({ players: [p] }, mailOf({ attachments: null }), T0);
      for (const claims of [[theirs], [bare], [Number.MAX_SAFE_INTEGER], [mine, theirs], [bare, mine]]) {
        const [r] = await store.saveBatch([claiming(p, 0, claims)]);
        assertRefused(r, ErrorCodes.MAIL_ERR_NOT_CLAIMABLE);
        assert.equal(await store.loadPlayer(p), null, `no row written for ${JSON.stringify(claims)}`);
      }
      assert.equal(await claimedAt(store, p, mine), null, 'not claimed by a refused entry');
      assert.equal(await claimedAt(store, q, theirs), null);
      assert.deepEqual(await store.saveBatch([claiming(p, 0, [mine]), claiming(q, 0, [theirs])]), [
        { ok: true, version: 1 },
        { ok: true, version: 1 },
      ]);
    }));

  test(`${name}: a stale or fenced save claims nothing, and the mail stays claimable`, () =>
    withStore(fixture, async (store) => {
      const p = `fenced-claim-${uniq()}`;
      const m = await store.mail.send({ players: [p] }, mailOf({ attachments: GIFT }), T0);
      const { fence: old } = await store.claimPlayer(p);
      assert.equal(await store.savePlayer(p, 'v1', 0, old), 1);
      for (const expected of [0, 2, 5]) assertRefused((await store.saveBatch([claiming(p, expected, [m], { fence: old })]))[0], ErrorCodes.STO_ERR_STALE_VERSION);
      const { fence } = await store.claimPlayer(p);
      assertRefused((await store.saveBatch([claiming(p, 1, [m], { fence: old })]))[0], ErrorCodes.STO_ERR_FENCED);
      assert.equal(await claimedAt(store, p, m), null);
      assert.equal((await store.loadPlayer(p))?.version, 1);
      assert.deepEqual(await store.saveBatch([claiming(p, 1, [m], { fence })]), [{ ok: true, version: 2 }]);
      assert.equal(typeof (await claimedAt(store, p, m)), 'number');
    }));

  test(`${name}: mail to everyone is claimed per player; expiry and deletion are not looked at by a claim`, () =>
    withFreshStore(fixture, async (store) => {
      const all = await store.mail.send({ everyone: true }, mailOf({ attachments: GIFT }), T0);
      const bare = await store.mail.send({ everyone: true }, mailOf({ attachments: null }), T0);
      assert.deepEqual(await store.saveBatch([claiming('a', 0, [all]), claiming('b', 0, [all])]), [
        { ok: true, version: 1 },
        { ok: true, version: 1 },
      ]);
      assert.equal(typeof (await claimedAt(store, 'a', all)), 'number');
      assert.equal(await claimedAt(store, 'c', all), null, 'one player’s claim is its own');
      assertRefused((await store.saveBatch([claiming('a', 1, [all])]))[0], ErrorCodes.MAIL_ERR_NOT_CLAIMABLE);
      assertRefused((await store.saveBatch([claiming('c', 0, [bare])]))[0], ErrorCodes.MAIL_ERR_NOT_CLAIMABLE);
      assertRefused((await store.saveBatch([claiming('c', 0, [all, bare])]))[0], ErrorCodes.MAIL_ERR_NOT_CLAIMABLE);
      assert.equal(await claimedAt(store, 'c', all), null);
      assert.deepEqual(await store.saveBatch([claiming(`late-${uniq()}`, 0, [all])]), [{ ok: true, version: 1 }]);
      // The claimant checked expiry and deletion before; the store does not look again.
      const expired = await store.mail.send({ everyone: true }, mailOf({ attachments: GIFT, expiresAt: 1 }), T0);
      const deleted = await store.mail.send({ players: ['a'] }, mailOf({ attachments: GIFT }), T0);
      assert.equal(await store.mail.delete('a', [deleted], T0), 1);
      assert.deepEqual(await store.saveBatch([claiming('a', 1, [expired, deleted])]), [{ ok: true, version: 2 }]);
    }));

  test(`${name}: malformed mailClaims refuse their entry with OPT_ERR_INVALID; the batch's other entries are written`, () =>
    withStore(fixture, async (store) => {
      const p = `bad-claims-${uniq()}`;
      const m = await store.mail.send({ players: [p] }, mailOf({ attachments: GIFT }), T0);
      const badClaims: unknown[] = ['1', 1, null, {}, [0], [-1], [1.5], [NaN], ['1'], [Number.MAX_SAFE_INTEGER + 1], [m, m], Array.from({ length: 101 }, (_, i) => m + i)];
      for (const claims of badClaims) {
        const results = await store.saveBatch([claiming(p, 0, claims as never), { kind: 'player', id: `${p}-${uniq()}`, data: 1, expectedVersion: 0 }]);
        assertRefused(results[0], ErrorCodes.OPT_ERR_INVALID);
        assert.deepEqual(results[1], { ok: true, version: 1 }, JSON.stringify(claims));
      }
      assertRefused((await store.saveBatch([{ kind: 'scene', id: `${p}-scene`, data: 1, expectedVersion: 0, mailClaims: [m] }]))[0], ErrorCodes.OPT_ERR_INVALID);
      assert.equal(await store.loadPlayer(p), null);
      assert.equal(await claimedAt(store, p, m), null);
      assert.deepEqual(await store.saveBatch([claiming(p, 0, Array.from({ length: 100 }, (_, i) => m + 99 - i))]).then((r) => r[0]?.ok === false && r[0].error.code), ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, '100 ids is the most');
    }));

  for (const kind of ['direct', 'to everyone'] as const) {
    test(`${name}: concurrent saves claiming one mail ${kind} for one player claim it once`, () =>
      withFreshStore(fixture, async (store) => {
        const player = `racer-${uniq()}`;
        const mailId = await store.mail.send(kind === 'direct' ? { players: [player] } : { everyone: true }, mailOf({ attachments: GIFT }), T0);
        assert.equal(await store.savePlayer(player, { ready: true }, 0), 1);
        await raceClaims(store, player, mailId, 10);
        // Other players' claims of a mail to everyone are their own, concurrent or not.
        if (kind === 'to everyone') {
          const others = Array.from({ length: 10 }, (_, i) => `${player}-${i}`);
          const results = await Promise.all(others.map((id) => store.saveBatch([claiming(id, 0, [mailId])])));
          assert.deepEqual(results.flat(), Array(10).fill({ ok: true, version: 1 }));
        }
      }));
  }
}
