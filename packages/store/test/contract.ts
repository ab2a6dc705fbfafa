import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { CodedError, ErrorCodes } from '@gos/schema';
import { MAX_CLAIM_BATCH, MIGRATIONS, getMigrationStatus, runMigrations, type Store } from '../src/index.js';
import { coded, uniq, withStore, type StoreFixture } from './contract-helpers.js';
import { runPlayerLogContract } from './player-logs-contract.js';
import { runConfigBundleContract } from './config-bundles-contract.js';
import { runMailContract } from './mail-contract.js';
import { runMailClaimContract } from './mail-claims-contract.js';

const run = promisify(execFile);
const MIGRATE_BIN = fileURLToPath(new URL('../bin/migrate.js', import.meta.url));

/**
 * The behaviour every Store implementation must have; `sqlite.test.ts` and `mysql.test.ts`
 * run it against the two implementations.
 */
export function runStoreContract(name: string, fixture: StoreFixture): void {
  test(`${name}: accounts are created, found case-insensitively and unique case-insensitively`, () =>
    withStore(fixture, async (store) => {
      const u = `Alice_${uniq()}`;
      const before = Date.now();
      const a = await store.createAccount({ username: u, passwordHash: 'scrypt$abc' });
      assert.equal(typeof a.accountId, 'string');
      assert.ok(a.accountId.length > 0);
      assert.equal(a.username, u);
      assert.equal(a.passwordHash, 'scrypt$abc');
      assert.equal(a.guest, false);
      assert.ok(a.createdAt >= before && a.createdAt <= Date.now());

      assert.deepEqual(await store.findAccountByUsername(u), a);
      assert.deepEqual(await store.findAccountByUsername(u.toUpperCase()), a, 'lookup ignores case');
      assert.deepEqual(await store.findAccountByUsername(u.toLowerCase()), a);
      assert.deepEqual(await store.getAccount(a.accountId), a);
      assert.equal(await store.findAccountByUsername(`nobody_${uniq()}`), null);
      assert.equal(await store.getAccount(randomUUID()), null);
      for (const id of ['', 'é-ü 🎮', `'; DROP TABLE accounts; --`, 'x'.repeat(500)]) assert.equal(await store.getAccount(id), null, id);

      await assert.rejects(store.createAccount({ username: u, passwordHash: 'x' }), coded(ErrorCodes.STO_ERR_DUPLICATE));
      await assert.rejects(store.createAccount({ username: u.toUpperCase(), passwordHash: 'x' }), coded(ErrorCodes.STO_ERR_DUPLICATE));
      await assert.rejects(store.createAccount({ username: u.toLowerCase(), passwordHash: 'x' }), coded(ErrorCodes.STO_ERR_DUPLICATE));
      assert.deepEqual(await store.findAccountByUsername(u), a, 'a refused duplicate changes nothing');

      // Different names that only look alike under a padding or accent-folding collation stay distinct.
      const spaced = await store.createAccount({ username: `${u} `, passwordHash: 'y' });
      assert.notEqual(spaced.accountId, a.accountId);
      const g = await store.createAccount({ username: `guest-${uniq()}`, passwordHash: '', guest: true });
      assert.equal(g.guest, true);
      assert.equal((await store.getAccount(g.accountId))?.guest, true);
    }));

  test(`${name}: an account's group is set at creation and by setAccountGroup, null by default`, () =>
    withStore(fixture, async (store) => {
      const plain = await store.createAccount({ username: `solo_${uniq()}`, passwordHash: 'h' });
      assert.equal(plain.groupId, null);
      assert.equal((await store.getAccount(plain.accountId))?.groupId, null);
      const group = `guild-${uniq()}`;
      const member = await store.createAccount({ username: `member_${uniq()}`, passwordHash: 'h', groupId: group });
      assert.equal(member.groupId, group);
      assert.deepEqual(await store.findAccountByUsername(member.username), member);
      assert.deepEqual(await store.getAccount(member.accountId), member);
      assert.equal((await store.createAccount({ username: `nullgroup_${uniq()}`, passwordHash: 'h', groupId: null })).groupId, null);

      const longest = `A-z_0.9:${'g'.repeat(56)}`;
      assert.equal(longest.length, 64);
      assert.equal(await store.setAccountGroup(plain.accountId, longest), true);
      assert.equal((await store.getAccount(plain.accountId))?.groupId, longest);
      assert.equal(await store.setAccountGroup(plain.accountId, longest), true, 'setting the same group again still finds the account');
      assert.equal(await store.setAccountGroup(plain.accountId, null), true);
      assert.equal((await store.findAccountByUsername(plain.username))?.groupId, null);
      assert.equal((await store.getAccount(member.accountId))?.groupId, group, 'other accounts untouched');

      assert.equal(await store.setAccountGroup(randomUUID(), group), false, 'no such account');
      assert.equal(await store.setAccountGroup('é-ü 🎮', group), false, 'cannot be an account id');
      const bad = coded(ErrorCodes.OPT_ERR_INVALID);
      for (const groupId of ['', 'x'.repeat(65), 'with space', 'é', 'a/b', "g'; DROP TABLE accounts; --", 42, {}]) {
        await assert.rejects(store.setAccountGroup(member.accountId, groupId as never), bad, String(groupId));
        await assert.rejects(store.createAccount({ username: `bad_${uniq()}`, passwordHash: 'h', groupId: groupId as never }), bad, String(groupId));
      }
      assert.equal((await store.getAccount(member.accountId))?.groupId, group, 'a refused change changes nothing');
    }));

  test(`${name}: concurrent registrations of one name: exactly one wins`, () =>
    withStore(fixture, async (store) => {
      const u = `race_${uniq()}`;
      const outcomes = await Promise.allSettled([u, u.toUpperCase(), u, `${u[0]!.toUpperCase()}${u.slice(1)}`].map((name) => store.createAccount({ username: name, passwordHash: 'h' })));
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      for (const o of outcomes) if (o.status === 'rejected') coded(ErrorCodes.STO_ERR_DUPLICATE)(o.reason);
    }));

  for (const kind of ['player', 'scene'] as const) {
    const load = (s: Store, id: string) => (kind === 'player' ? s.loadPlayer(id) : s.loadScene(id));
    const save = (s: Store, id: string, data: unknown, v: number) => (kind === 'player' ? s.savePlayer(id, data, v) : s.saveScene(id, data, v));

    test(`${name}: ${kind} insert, update and stale refusal`, () =>
      withStore(fixture, async (store) => {
        const id = `${kind}:${uniq()}`;
        assert.equal(await load(store, id), null);
        const t0 = Date.now();
        assert.equal(await save(store, id, { hp: 10 }, 0), 1);
        const r1 = await load(store, id);
        assert.deepEqual({ ...r1, updatedAt: 0 }, { id, data: { hp: 10 }, version: 1, updatedAt: 0 });
        assert.ok(r1!.updatedAt >= t0 && r1!.updatedAt <= Date.now());

        await assert.rejects(save(store, id, { hp: 0 }, 0), coded(ErrorCodes.STO_ERR_STALE_VERSION), 'insert over an existing row');
        assert.equal(await save(store, id, { hp: 9 }, 1), 2);
        await assert.rejects(save(store, id, { hp: 0 }, 1), coded(ErrorCodes.STO_ERR_STALE_VERSION), 'old version');
        await assert.rejects(save(store, id, { hp: 0 }, 7), coded(ErrorCodes.STO_ERR_STALE_VERSION), 'future version');
        assert.equal(await save(store, id, [1, 'two', null, true], 2), 3);
        const r3 = await load(store, id);
        assert.deepEqual(r3?.data, [1, 'two', null, true]);
        assert.equal(r3?.version, 3);

        // A missing row is at version 0: an update of it is stale and creates nothing.
        const ghost = `${kind}:ghost-${uniq()}`;
        await assert.rejects(save(store, ghost, {}, 4), coded(ErrorCodes.STO_ERR_STALE_VERSION));
        assert.equal(await load(store, ghost), null);

        // Scalars are JSON values too.
        const scalar = `${kind}:scalar-${uniq()}`;
        assert.equal(await save(store, scalar, null, 0), 1);
        assert.equal((await load(store, scalar))?.data, null);
        assert.equal(await save(store, scalar, 'text', 1), 2);
        assert.equal((await load(store, scalar))?.data, 'text');
      }));
  }

  test(`${name}: ids are case-sensitive, exact, and players and scenes are separate`, () =>
    withStore(fixture, async (store) => {
      const id = `Mixed-${uniq()}`;
      assert.equal(await store.savePlayer(id, 'upper', 0), 1);
      assert.equal(await store.savePlayer(id.toLowerCase(), 'lower', 0), 1);
      assert.equal(await store.savePlayer(`${id} `, 'spaced', 0), 1);
      assert.equal(await store.saveScene(id, 'scene', 0), 1);
      assert.equal((await store.loadPlayer(id))?.data, 'upper');
      assert.equal((await store.loadPlayer(id.toLowerCase()))?.data, 'lower');
      assert.equal((await store.loadPlayer(`${id} `))?.data, 'spaced');
      assert.equal((await store.loadScene(id))?.data, 'scene');
      assert.equal(await store.loadScene(id.toLowerCase()), null);
    }));

  test(`${name}: concurrent first writes of one row: exactly one wins`, () =>
    withStore(fixture, async (store) => {
      const id = `race-${uniq()}`;
      const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => store.savePlayer(id, { n }, 0)));
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const o of outcomes) if (o.status === 'rejected') coded(ErrorCodes.STO_ERR_STALE_VERSION)(o.reason);
      assert.equal((await store.loadPlayer(id))?.version, 1);
    }));

  test(`${name}: fencing — a claim moves the row's token; writes with an older token are refused and change nothing`, () =>
    withStore(fixture, async (store) => {
      for (const kind of ['player', 'scene'] as const) {
        const claim = (id: string) => (kind === 'player' ? store.claimPlayer(id) : store.claimScene(id));
        const load = (id: string) => (kind === 'player' ? store.loadPlayer(id) : store.loadScene(id));
        const id = `fence-${kind}-${uniq()}`;
        // Engine A takes a row nobody saved yet: reserved, still loaded as absent.
        const a = await claim(id);
        assert.deepEqual(a, { record: null, fence: 1 });
        assert.equal(await load(id), null);
        const [first] = await store.saveBatch([{ kind, id, data: { by: 'a', n: 1 }, expectedVersion: 0, fence: a.fence }]);
        assert.deepEqual(first, { ok: true, version: 1 });
        // Engine B takes it over (A was paused and lost it) and sees A's last write.
        const b = await claim(id);
        assert.equal(b.fence, 2);
        assert.deepEqual(b.record?.data, { by: 'a', n: 1 });
        assert.equal(b.record?.version, 1);
        // A wakes up and writes with the version it knows: refused, because of the fence.
        const [late] = await store.saveBatch([{ kind, id, data: { by: 'a', n: 2 }, expectedVersion: 1, fence: a.fence }]);
        assert.equal(!late!.ok && late!.error.code, ErrorCodes.STO_ERR_FENCED);
        assert.match(!late!.ok ? late!.error.message : '', /claimed since \(token 2\)/);
        await assert.rejects(
          kind === 'player' ? store.savePlayer(id, { by: 'a' }, 1, a.fence) : store.saveScene(id, { by: 'a' }, 1, a.fence),
          coded(ErrorCodes.STO_ERR_FENCED),
        );
        assert.deepEqual((await load(id))?.data, { by: 'a', n: 1 }, 'nothing overwritten');
        // B writes on; a write without a token is still checked by version only.
        const [mine] = await store.saveBatch([{ kind, id, data: { by: 'b' }, expectedVersion: 1, fence: b.fence }]);
        assert.deepEqual(mine, { ok: true, version: 2 });
        assert.equal(kind === 'player' ? await store.savePlayer(id, { by: 'tool' }, 2) : await store.saveScene(id, { by: 'tool' }, 2), 3);
        // A row reserved by a claim takes a first write without a token too.
        const fresh = `fence-${kind}-${uniq()}`;
        await claim(fresh);
        assert.equal(kind === 'player' ? await store.savePlayer(fresh, { v: 1 }, 0) : await store.saveScene(fresh, { v: 1 }, 0), 1);
        assert.deepEqual((await load(fresh))?.data, { v: 1 });
      }
      await assert.rejects(store.saveBatch([{ kind: 'player', id: 'x', data: {}, expectedVersion: 0, fence: 0 }]).then((r) => {
        if (!r[0]!.ok) throw new CodedError(r[0]!.error.code, r[0]!.error.message);
      }), coded(ErrorCodes.OPT_ERR_INVALID));
    }));

  test(`${name}: concurrent claims of one row each get their own token`, () =>
    withStore(fixture, async (store) => {
      const id = `claims-${uniq()}`;
      const fences = (await Promise.all([1, 2, 3, 4, 5].map(() => store.claimScene(id)))).map((c) => c.fence).sort((x, y) => x - y);
      assert.deepEqual(fences, [1, 2, 3, 4, 5]);
    }));

  test(`${name}: saveBatch reports per entry and writes the others`, () =>
    withStore(fixture, async (store) => {
      const p1 = `p1-${uniq()}`;
      const p2 = `p2-${uniq()}`;
      const p3 = `p3-${uniq()}`;
      const s1 = `s1-${uniq()}`;
      const taken = `s-taken-${uniq()}`;
      assert.equal(await store.savePlayer(p1, { v: 'old' }, 0), 1);
      assert.equal(await store.saveScene(taken, { v: 'theirs' }, 0), 1);
      const circular: Record<string, unknown> = {};
      circular.self = circular;

      const results = await store.saveBatch([
        { kind: 'player', id: p1, data: { v: 'new' }, expectedVersion: 1 },
        { kind: 'player', id: p2, data: { v: 'p2' }, expectedVersion: 0 },
        { kind: 'player', id: p1, data: { v: 'stale' }, expectedVersion: 1 }, // p1 is at 2 now
        { kind: 'scene', id: s1, data: { v: 's1' }, expectedVersion: 0 },
        { kind: 'scene', id: taken, data: { v: 'mine' }, expectedVersion: 0 },
        { kind: 'player', id: p3, data: { step: 1 }, expectedVersion: 0 },
        { kind: 'player', id: p3, data: { step: 2 }, expectedVersion: 1 },
        { kind: 'player', id: `bad-${uniq()}`, data: { x: 1 }, expectedVersion: -1 },
        { kind: 'player', id: `bad-${uniq()}`, data: circular, expectedVersion: 0 },
        { kind: 'player', id: '', data: {}, expectedVersion: 0 },
      ]);
      assert.equal(results.length, 10);
      assert.deepEqual(results.slice(0, 2), [
        { ok: true, version: 2 },
        { ok: true, version: 1 },
      ]);
      const stale = results[2]!;
      assert.equal(stale.ok, false);
      assert.equal(!stale.ok && stale.error.code, ErrorCodes.STO_ERR_STALE_VERSION);
      assert.equal(typeof (!stale.ok && stale.error.message), 'string');
      assert.deepEqual(results[3], { ok: true, version: 1 });
      assert.equal(!results[4]!.ok && results[4]!.error.code, ErrorCodes.STO_ERR_STALE_VERSION);
      assert.deepEqual(results.slice(5, 7), [
        { ok: true, version: 1 },
        { ok: true, version: 2 },
      ]);
      for (const r of results.slice(7)) assert.equal(!r.ok && r.error.code, ErrorCodes.OPT_ERR_INVALID);
      // Results are plain data, so they cross a thread boundary.
      assert.deepEqual(structuredClone(results), results);

      assert.deepEqual((await store.loadPlayer(p1))?.data, { v: 'new' });
      assert.equal((await store.loadPlayer(p1))?.version, 2);
      assert.deepEqual((await store.loadPlayer(p2))?.data, { v: 'p2' });
      assert.deepEqual((await store.loadPlayer(p3))?.data, { step: 2 });
      assert.deepEqual((await store.loadScene(s1))?.data, { v: 's1' });
      assert.deepEqual((await store.loadScene(taken))?.data, { v: 'theirs' });
      assert.deepEqual(await store.saveBatch([]), []);
    }));

  test(`${name}: a large batch of existing rows (a scene's players at its save): every row written, one stale and one fenced row refused alone`, () =>
    withStore(fixture, async (store) => {
      // More rows than one statement writes (MySQL: ROWS_PER_STATEMENT, 200), in a shuffled order.
      const ids = Array.from({ length: 450 }, (_, i) => `crowd-${String(i).padStart(3, '0')}-${uniq()}`);
      const claims = await store.claimPlayers(ids);
      const fenceOf = new Map(claims.map((c) => [c.playerId, c.fence]));
      const first = await store.saveBatch(ids.map((id) => ({ kind: 'player', id, data: { n: 0 }, expectedVersion: 0, fence: fenceOf.get(id)!, sceneId: 'world:1' })));
      assert.ok(first.every((r) => r.ok && r.version === 1));
      const shuffled = [...ids].reverse();
      const again = await store.saveBatch(shuffled.map((id) => ({ kind: 'player', id, data: { n: 1, id }, expectedVersion: 1, fence: fenceOf.get(id)!, sceneId: 'world:2' })));
      assert.ok(again.every((r) => r.ok && r.version === 2));
      for (const id of [ids[0]!, ids[199]!, ids[200]!, ids[449]!]) {
        const row = await store.loadPlayer(id);
        assert.deepEqual([row?.data, row?.version], [{ n: 1, id }, 2]);
        assert.equal(await store.playerScene(id), 'world:2');
      }
      // One row stale, one taken over by another claim: refused; every other row of the run written.
      const stale = ids[10]!;
      const taken = ids[300]!;
      await store.claimPlayers([taken]);
      const third = await store.saveBatch(ids.map((id) => ({ kind: 'player', id, data: { n: 2 }, expectedVersion: id === stale ? 1 : 2, fence: fenceOf.get(id)!, sceneId: 'world:3' })));
      assert.equal(!third[10]!.ok && third[10]!.error.code, ErrorCodes.STO_ERR_STALE_VERSION);
      assert.equal(!third[300]!.ok && third[300]!.error.code, ErrorCodes.STO_ERR_FENCED);
      assert.ok(third.every((r, i) => i === 10 || i === 300 || (r.ok && r.version === 3)));
      const staleRow = await store.loadPlayer(stale);
      assert.deepEqual([staleRow?.data, staleRow?.version], [{ n: 1, id: stale }, 2]);
      assert.equal(await store.playerScene(stale), 'world:2');
      assert.equal(await store.playerScene(taken), 'world:2');
      const written = await store.loadPlayer(ids[11]!);
      assert.deepEqual([written?.data, written?.version], [{ n: 2 }, 3]);
      assert.equal(await store.playerScene(ids[299]!), 'world:3');
    }));

  test(`${name}: a batch of large rows (400 kB each, more than one statement carries) is written whole`, () =>
    withStore(fixture, async (store) => {
      const ids = Array.from({ length: 6 }, (_, i) => `big-${i}-${uniq()}`);
      const claims = await store.claimPlayers(ids);
      const fenceOf = new Map(claims.map((c) => [c.playerId, c.fence]));
      const big = (id: string, n: number): { id: string; n: number; blob: string } => ({ id, n, blob: `${id}:`.padEnd(400_000, String(n)) });
      for (const [n, expected] of [[0, 0], [1, 1]] as const) {
        const results = await store.saveBatch(ids.map((id) => ({ kind: 'player', id, data: big(id, n), expectedVersion: expected, fence: fenceOf.get(id)! })));
        assert.ok(results.every((r) => r.ok && r.version === expected + 1), JSON.stringify(results.filter((r) => !r.ok)));
      }
      for (const id of ids) assert.deepEqual((await store.loadPlayer(id))?.data, big(id, 1));
    }));

  test(`${name}: a player's scene is recorded with its successful saves, and only with them`, () =>
    withStore(fixture, async (store) => {
      const id = `where-${uniq()}`;
      assert.equal(await store.playerScene(id), null, 'never recorded');
      const claim = await store.claimPlayer(id);
      assert.deepEqual(await store.saveBatch([{ kind: 'player', id, data: { x: 1 }, expectedVersion: 0, fence: claim.fence, sceneId: 'world:2' }]), [{ ok: true, version: 1 }]);
      assert.equal(await store.playerScene(id), 'world:2');
      // A save without a sceneId leaves it as it was.
      assert.deepEqual(await store.saveBatch([{ kind: 'player', id, data: { x: 2 }, expectedVersion: 1, fence: claim.fence }]), [{ ok: true, version: 2 }]);
      assert.equal(await store.playerScene(id), 'world:2');
      // Refused writes (stale, fenced) do not move the player; a malformed sceneId refuses the entry.
      const [stale] = await store.saveBatch([{ kind: 'player', id, data: { x: 3 }, expectedVersion: 1, fence: claim.fence, sceneId: 'dungeon:9' }]);
      assert.equal(!stale!.ok && stale!.error.code, ErrorCodes.STO_ERR_STALE_VERSION);
      const next = await store.claimPlayer(id);
      const [fencedOut] = await store.saveBatch([{ kind: 'player', id, data: { x: 3 }, expectedVersion: 2, fence: claim.fence, sceneId: 'dungeon:9' }]);
      assert.equal(!fencedOut!.ok && fencedOut!.error.code, ErrorCodes.STO_ERR_FENCED);
      const [bad] = await store.saveBatch([{ kind: 'player', id, data: { x: 3 }, expectedVersion: 2, fence: next.fence, sceneId: '' }]);
      assert.equal(!bad!.ok && bad!.error.code, ErrorCodes.OPT_ERR_INVALID);
      assert.equal(await store.playerScene(id), 'world:2');
      assert.deepEqual((await store.loadPlayer(id))?.data, { x: 2 });
      // SQL metacharacters in a scene id are data.
      const odd = "world:1'; DROP TABLE player_scenes; --";
      assert.deepEqual(await store.saveBatch([{ kind: 'player', id, data: { x: 4 }, expectedVersion: 2, fence: next.fence, sceneId: odd }]), [{ ok: true, version: 3 }]);
      assert.equal(await store.playerScene(id), odd);
      await assert.rejects(store.playerScene(''), coded(ErrorCodes.OPT_ERR_INVALID));
    }));

  test(`${name}: claimPlayers claims many rows at once, as claimPlayer does each, with their timers; fences the earlier owners`, () =>
    withStore(fixture, async (store) => {
      const saved = `many-${uniq()}`;
      const fresh = `many-${uniq()}`;
      const odd = `many-${uniq()}'; DROP TABLE players; --`;
      const first = await store.claimPlayer(saved);
      const timer = { name: 'regen', dueAt: 1_000, id: 't-1', payload: '{"hp":5}' };
      assert.deepEqual(await store.saveBatch([{ kind: 'player', id: saved, data: { hp: 3 }, expectedVersion: 0, fence: first.fence, timers: { set: [timer], delete: [] }, sceneId: 'world:2' }]), [{ ok: true, version: 1 }]);
      const claimed = await store.claimPlayers([fresh, saved, odd, saved]);
      assert.deepEqual(claimed.map((c) => c.sceneId), [null, 'world:2', null], 'the scene each row names');
      assert.deepEqual(claimed.map((c) => c.playerId), [fresh, saved, odd], 'one entry per distinct id, in the order given');
      const [c0, c1, c2] = claimed;
      assert.equal(c0!.record, null, 'never saved: reserved, loaded as absent');
      assert.deepEqual(c0!.timers, []);
      assert.deepEqual([c1!.record?.data, c1!.record?.version], [{ hp: 3 }, 1]);
      assert.deepEqual(c1!.timers, [timer]);
      assert.equal(c1!.fence, first.fence + 1, 'the claim moved the token once, though the id came twice');
      assert.equal(c2!.record, null);
      // The earlier owner is fenced off; the new one writes.
      const [late] = await store.saveBatch([{ kind: 'player', id: saved, data: { hp: 0 }, expectedVersion: 1, fence: first.fence }]);
      assert.equal(!late!.ok && late!.error.code, ErrorCodes.STO_ERR_FENCED);
      assert.deepEqual(await store.saveBatch([{ kind: 'player', id: saved, data: { hp: 4 }, expectedVersion: 1, fence: c1!.fence }]), [{ ok: true, version: 2 }]);
      assert.deepEqual(await store.saveBatch([{ kind: 'player', id: fresh, data: { hp: 9 }, expectedVersion: 0, fence: c0!.fence }]), [{ ok: true, version: 1 }]);
      // A single claim after a batch claim fences the batch's owner too.
      const single = await store.claimPlayer(odd);
      assert.ok(single.fence > c2!.fence);
      assert.deepEqual(await store.claimPlayers([]), []);
      await assert.rejects(store.claimPlayers([saved, '']), coded(ErrorCodes.OPT_ERR_INVALID));
      await assert.rejects(store.claimPlayers(Array.from({ length: MAX_CLAIM_BATCH + 1 }, (_, i) => `too-many-${i}`)), coded(ErrorCodes.OPT_ERR_INVALID));
    }));

  test(`${name}: timers are written with their owner's save, only when it succeeds, and found when due`, () =>
    withStore(fixture, async (store) => {
      const owner = `timers-${uniq()}`;
      const other = `timers-${uniq()}'; DROP TABLE timers; --`;
      // Due times far in the past, in a range no other test uses: dueTimers below sees only these.
      const base = 1_000 + Math.floor(Math.random() * 1_000_000) * 10;
      const t = (name: string, dueAt: number, payload = '{}'): { name: string; dueAt: number; id: string; payload: string } => ({ name, dueAt, id: `t-${uniq()}`, payload });
      const claim = await store.claimScene(owner);
      try {
        assert.deepEqual(await store.loadTimers(owner), []);
        const a = t('respawn:goblin', base + 5, '{"hp":10}');
        const b = t("boss'; --", base + 2);
        assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: owner, data: { n: 1 }, expectedVersion: 0, fence: claim.fence, timers: { set: [a, b], delete: [] } }]), [{ ok: true, version: 1 }]);
        assert.deepEqual(await store.loadTimers(owner), [b, a], 'by due time');
        // Set again replaces; delete removes; unknown names are ignored.
        const a2 = { ...a, dueAt: base + 1, id: `again-${uniq()}` };
        assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: owner, data: { n: 2 }, expectedVersion: 1, fence: claim.fence, timers: { set: [a2], delete: [b.name, 'nosuch'] } }]), [{ ok: true, version: 2 }]);
        assert.deepEqual(await store.loadTimers(owner), [a2]);
        // A second owner, and what is due.
        const claim2 = await store.claimScene(other);
        assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: other, data: null, expectedVersion: 0, fence: claim2.fence, timers: { set: [t('x', base + 3), t('y', base + 9)], delete: [] } }]), [{ ok: true, version: 1 }]);
        const due = (await store.dueTimers(base + 4, 100)).filter((d) => d.ownerId === owner || d.ownerId === other);
        assert.deepEqual(due, [{ ownerId: owner, dueAt: base + 1 }, { ownerId: other, dueAt: base + 3 }]);
        assert.deepEqual((await store.dueTimers(base + 2, 1)).length, 1, 'limit');
        // Refused saves write no timer: stale, fenced.
        const [stale] = await store.saveBatch([{ kind: 'scene', id: owner, data: { n: 3 }, expectedVersion: 1, fence: claim.fence, timers: { set: [t('late', base)], delete: [a2.name] } }]);
        assert.equal(!stale!.ok && stale!.error.code, ErrorCodes.STO_ERR_STALE_VERSION);
        const next = await store.claimScene(owner);
        const [fenced] = await store.saveBatch([{ kind: 'scene', id: owner, data: { n: 3 }, expectedVersion: 2, fence: claim.fence, timers: { set: [t('late', base)], delete: [a2.name] } }]);
        assert.equal(!fenced!.ok && fenced!.error.code, ErrorCodes.STO_ERR_FENCED);
        assert.deepEqual(await store.loadTimers(owner), [a2], 'untouched by refused saves');
        // Malformed timers refuse the entry; players carry none.
        for (const timers of [{ set: [{ ...a2, dueAt: -1 }], delete: [] }, { set: [{ ...a2, id: '' }], delete: [] }, { set: [{ ...a2, name: '' }], delete: [] }, { set: [], delete: [''] }, { set: 'x', delete: [] }]) {
          const [bad] = await store.saveBatch([{ kind: 'scene', id: owner, data: { n: 3 }, expectedVersion: 2, fence: next.fence, timers: timers as never }]);
          assert.equal(!bad!.ok && bad!.error.code, ErrorCodes.OPT_ERR_INVALID, JSON.stringify(timers));
        }
        // A player's timers live under `@<id>`, apart from a scene of the same id, and are never listed as due.
        const [player] = await store.saveBatch([{ kind: 'player', id: owner, data: {}, expectedVersion: 0, timers: { set: [t('buff', base)], delete: [] } }]);
        assert.deepEqual(player, { ok: true, version: 1 });
        assert.deepEqual((await store.loadTimers(`@${owner}`)).map((x) => x.name), ['buff']);
        assert.ok(!(await store.dueTimers(base + 100, 1000)).some((d) => d.ownerId === `@${owner}`));
        assert.deepEqual(await store.saveBatch([{ kind: 'player', id: owner, data: {}, expectedVersion: 1, timers: { set: [], delete: ['buff'] } }]), [{ ok: true, version: 2 }]);
        await assert.rejects(store.dueTimers(-1, 10), coded(ErrorCodes.OPT_ERR_INVALID));
        await assert.rejects(store.dueTimers(base, 0), coded(ErrorCodes.OPT_ERR_INVALID));
        await assert.rejects(store.loadTimers(''), coded(ErrorCodes.OPT_ERR_INVALID));
        // Many at once (chunked writes).
        const many = Array.from({ length: 1200 }, (_, i) => t(`m${i}`, base + 10_000 + i));
        assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: owner, data: { n: 3 }, expectedVersion: 2, fence: next.fence, timers: { set: many, delete: [] } }]), [{ ok: true, version: 3 }]);
        assert.equal((await store.loadTimers(owner)).length, 1201);
        assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: owner, data: { n: 4 }, expectedVersion: 3, fence: next.fence, timers: { set: [], delete: many.map((m) => m.name) } }]), [{ ok: true, version: 4 }]);
        assert.deepEqual(await store.loadTimers(owner), [a2]);
        assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: other, data: null, expectedVersion: 1, fence: claim2.fence, timers: { set: [], delete: ['x', 'y'] } }]), [{ ok: true, version: 2 }]);
      } finally {
        // Leave no due timer behind in the shared database (engines of other tests scan for them).
        const last = await store.claimScene(owner);
        const version = (await store.loadScene(owner))?.version ?? 0;
        await store.saveBatch([{ kind: 'scene', id: owner, data: null, expectedVersion: version, fence: last.fence, timers: { set: [], delete: (await store.loadTimers(owner)).map((x) => x.name) } }]);
      }
    }));

  test(`${name}: shared rows are written with their owner's save, only when it succeeds, and read after a version`, () =>
    withStore(fixture, async (store) => {
      const owner = `shared-owner-${uniq()}`;
      const table = `events-${uniq()}'; --`;
      const claim = await store.claimScene(owner);
      assert.deepEqual(await store.loadShared(table, 0, 100), []);
      const rows = [
        { key: 'boss', value: '{"hp":10}', version: 1 },
        { key: "k'; DROP TABLE shared_data; --", value: '1', version: 2 },
        { key: 'boss', value: '{"hp":5}', version: 3 },
      ];
      assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: owner, data: 1, expectedVersion: 0, fence: claim.fence, shared: [{ table, rows }] }]), [{ ok: true, version: 1 }]);
      assert.deepEqual(await store.loadShared(table, 0, 100), [
        { key: "k'; DROP TABLE shared_data; --", value: '1', version: 2 },
        { key: 'boss', value: '{"hp":5}', version: 3 },
      ]);
      // A deletion is a tombstone; reads after a version see only later rows.
      assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: owner, data: 2, expectedVersion: 1, fence: claim.fence, shared: [{ table, rows: [{ key: 'boss', value: null, version: 4 }] }] }]), [{ ok: true, version: 2 }]);
      assert.deepEqual(await store.loadShared(table, 3, 100), [{ key: 'boss', value: null, version: 4 }]);
      assert.equal((await store.loadShared(table, 0, 1)).length, 1, 'limit');
      // An older version never overwrites a newer one; a fenced save writes nothing.
      assert.deepEqual(await store.saveBatch([{ kind: 'scene', id: owner, data: 3, expectedVersion: 2, fence: claim.fence, shared: [{ table, rows: [{ key: 'boss', value: '"old"', version: 2 }] }] }]), [{ ok: true, version: 3 }]);
      assert.deepEqual((await store.loadShared(table, 3, 100)).map((r) => r.value), [null]);
      await store.claimScene(owner);
      const [fenced] = await store.saveBatch([{ kind: 'scene', id: owner, data: 4, expectedVersion: 3, fence: claim.fence, shared: [{ table, rows: [{ key: 'late', value: '1', version: 9 }] }] }]);
      assert.equal(!fenced!.ok && fenced!.error.code, ErrorCodes.STO_ERR_FENCED);
      assert.deepEqual(await store.loadShared(table, 4, 100), []);
      // Malformed: refused.
      for (const shared of [[{ table: '', rows: [] }], [{ table, rows: [{ key: '', value: '1', version: 5 }] }], [{ table, rows: [{ key: 'a', value: 1, version: 5 }] }], [{ table, rows: [{ key: 'a', value: '1', version: -1 }] }], 'x']) {
        const [bad] = await store.saveBatch([{ kind: 'scene', id: owner, data: 4, expectedVersion: 3, shared: shared as never }]);
        assert.equal(!bad!.ok && bad!.error.code, ErrorCodes.OPT_ERR_INVALID, JSON.stringify(shared));
      }
      await assert.rejects(store.loadShared('', 0, 10), coded(ErrorCodes.OPT_ERR_INVALID));
      await assert.rejects(store.loadShared(table, -1, 10), coded(ErrorCodes.OPT_ERR_INVALID));
    }));

  test(`${name}: leaderboard standings round-trip by rank, in pages and by member; periods and boards are apart`, () =>
    withStore(fixture, async (store) => {
      const archive = store.leaderboardArchive;
      const board = `daily.kills-${uniq()}`;
      const start = 1_767_225_600_000;
      const rows = [
        { rank: 3, memberId: 'carol', score: 1 / 3, data: null },
        { rank: 1, memberId: 'alice', score: 1e300, data: '{"name":"Alice"}' },
        { rank: 5, memberId: 'erin', score: -2.5, data: '' },
        { rank: 2, memberId: 'bob', score: Number.MAX_SAFE_INTEGER, data: '{"guild":"x"}' },
        { rank: 4, memberId: 'dave', score: 0, data: '[]' },
      ];
      const byRank = [...rows].sort((a, b) => a.rank - b.rank);
      assert.deepEqual(await archive.standings(board, start, 0, 10), []);
      await archive.writeStandings(board, start, rows);
      await archive.writeStandings(board, start, []);
      assert.deepEqual(await archive.standings(board, start, 0, 1000), byRank);
      assert.deepEqual(await archive.standings(board, start, 1, 2), byRank.slice(1, 3));
      assert.deepEqual(await archive.standings(board, start, 4, 10), byRank.slice(4));
      assert.deepEqual(await archive.standings(board, start, 5, 10), []);
      assert.deepEqual(await archive.standings(board, start, Number.MAX_SAFE_INTEGER, 1000), []);
      assert.deepEqual(await archive.standing(board, start, 'carol'), { rank: 3, memberId: 'carol', score: 1 / 3, data: null });
      assert.deepEqual(await archive.standing(board, start, 'erin'), { rank: 5, memberId: 'erin', score: -2.5, data: '' }, 'empty data is not null');
      assert.equal(await archive.standing(board, start, 'Carol'), null, 'member ids are case-sensitive');
      assert.equal(await archive.standing(board, start, 'nobody'), null);
      assert.deepEqual(await archive.standings(board.toUpperCase(), start, 0, 10), [], 'board names are case-sensitive');
      assert.deepEqual(await archive.standings(board, start + 1, 0, 10), []);
      assert.equal(await archive.standing(board, start - 1, 'alice'), null);
      assert.deepEqual(await archive.periods(board, 10), [], 'standings alone do not list a period');
    }));

  test(`${name}: leaderboard standings written again (an archiver run twice) are there once, as last written`, () =>
    withStore(fixture, async (store) => {
      const archive = store.leaderboardArchive;
      const board = `weekly-${uniq()}`;
      const start = 604_800_000;
      // More rows than one MySQL statement carries (1,000), written again in another order, then in part.
      const rows = Array.from({ length: 2500 }, (_, i) => ({ rank: i + 1, memberId: `m${i}`, score: 2500 - i + 0.25, data: i % 3 === 0 ? null : JSON.stringify({ i }) }));
      const readAll = async (): Promise<unknown[]> => {
        const all: unknown[] = [];
        for (let offset = 0; ; offset += 1000) {
          const page = await archive.standings(board, start, offset, 1000);
          all.push(...page);
          if (page.length < 1000) return all;
        }
      };
      await archive.writeStandings(board, start, rows);
      const once = await readAll();
      assert.deepEqual(once, rows);
      await archive.writeStandings(board, start, [...rows].reverse());
      await archive.writeStandings(board, start, rows.slice(1200, 1800));
      assert.deepEqual(await readAll(), once);
      // A rank written with other values is overwritten; a member at two ranks is found at the better one.
      const late = { rank: 2, memberId: 'late', score: 1, data: null };
      await archive.writeStandings(board, start, [{ rank: 2600, memberId: 'late', score: 0, data: 'worse' }, late]);
      assert.deepEqual(await archive.standings(board, start, 1, 1), [late]);
      assert.deepEqual(await archive.standing(board, start, 'late'), late);
      assert.equal(await archive.standing(board, start, 'm1'), null, 'the overwritten row is gone');
      assert.equal((await readAll()).length, 2501);
    }));

  test(`${name}: writeStandings takes up to 10,000 rows a call, and rows whose data one statement cannot carry together`, () =>
    withStore(fixture, async (store) => {
      const archive = store.leaderboardArchive;
      const board = `bulk-${uniq()}`;
      const rows = Array.from({ length: 10_000 }, (_, i) => ({ rank: i + 1, memberId: `member-${i}`, score: -i, data: null }));
      await assert.rejects(archive.writeStandings(board, 1, [...rows, { rank: 10_001, memberId: 'one-too-many', score: 0, data: null }]), coded(ErrorCodes.OPT_ERR_INVALID));
      assert.deepEqual(await archive.standings(board, 1, 0, 10), [], 'a refused call writes nothing');
      await archive.writeStandings(board, 1, rows);
      assert.equal((await archive.standings(board, 1, 9000, 1000)).length, 1000);
      assert.deepEqual(await archive.standings(board, 1, 9999, 1000), [rows[9999]]);
      assert.deepEqual(await archive.standing(board, 1, 'member-5000'), rows[5000]);
      const blob = 'd'.repeat(200 * 1024);
      const big = Array.from({ length: 30 }, (_, i) => ({ rank: i + 1, memberId: `big-${i}`, score: i, data: JSON.stringify({ i, blob }) }));
      await archive.writeStandings(board, 2, big);
      assert.deepEqual(await archive.standings(board, 2, 0, 1000), big);
    }));

  test(`${name}: a leaderboard period is listed once closed, newest first; closing it again keeps the first record`, () =>
    withStore(fixture, async (store) => {
      const archive = store.leaderboardArchive;
      const board = `season_${uniq()}`;
      const day = 86_400_000;
      assert.deepEqual(await archive.periods(board, 10), []);
      const before = Date.now();
      await archive.closePeriod({ board, periodStart: 2 * day, periodEnd: 3 * day, members: 10 });
      await archive.closePeriod({ board, periodStart: 0, periodEnd: day, members: 0 });
      await archive.closePeriod({ board, periodStart: day, periodEnd: 2 * day, members: 7 });
      const after = Date.now();
      const listed = await archive.periods(board, 10);
      assert.deepEqual(
        listed.map(({ archivedAt: _, ...p }) => p),
        [
          { board, periodStart: 2 * day, periodEnd: 3 * day, members: 10 },
          { board, periodStart: day, periodEnd: 2 * day, members: 7 },
          { board, periodStart: 0, periodEnd: day, members: 0 },
        ],
      );
      for (const p of listed) assert.ok(p.archivedAt >= before && p.archivedAt <= after, `archivedAt ${p.archivedAt}`);
      assert.deepEqual(await archive.periods(board, 2), listed.slice(0, 2));
      assert.deepEqual(await archive.periods(board, 1), listed.slice(0, 1));
      // A second archiver closes the same period with other values: the first record stays.
      await archive.closePeriod({ board, periodStart: day, periodEnd: 5 * day, members: 99 });
      await archive.closePeriod({ board, periodStart: day, periodEnd: 2 * day, members: 7 });
      assert.deepEqual(await archive.periods(board, 10), listed);
      assert.deepEqual(await archive.periods(board.toUpperCase(), 10), []);
    }));

  test(`${name}: closing a period drops the rows past its last rank (an earlier, longer attempt's), once`, () =>
    withStore(fixture, async (store) => {
      const archive = store.leaderboardArchive;
      const board = `rerun_${uniq()}`;
      const row = (rank: number, memberId: string): { rank: number; memberId: string; score: number; data: null } => ({ rank, memberId, score: 100 - rank, data: null });
      // An archiver wrote five rows and died; the standings lost two members since; the next one writes three and closes.
      await archive.writeStandings(board, 7, [row(1, 'a'), row(2, 'b'), row(3, 'c'), row(4, 'd'), row(5, 'e')]);
      await archive.writeStandings(board, 7, [row(1, 'a'), row(2, 'c'), row(3, 'e')]);
      await archive.closePeriod({ board, periodStart: 7, periodEnd: 8, members: 3 });
      assert.deepEqual((await archive.standings(board, 7, 0, 10)).map((r) => r.memberId), ['a', 'c', 'e']);
      assert.equal(await archive.standing(board, 7, 'd'), null);
      // Closed again (the first record stays): nothing more is dropped.
      await archive.closePeriod({ board, periodStart: 7, periodEnd: 8, members: 1 });
      assert.equal((await archive.standings(board, 7, 0, 10)).length, 3);
    }));

  test(`${name}: leaderboard member ids and data with quotes and SQL metacharacters round-trip exactly`, () =>
    withStore(fixture, async (store) => {
      const archive = store.leaderboardArchive;
      // Every kind of character a board name may have; a quote is not one of them (refused below).
      const board = `Quotes.Board_x-${uniq()}`;
      const ids = [`o'brien`, `say "hi"`, "x'; DROP TABLE leaderboard_standings;--", 'back\\slash `tick`', '%_ é 🎮', 'pad', 'pad ', 'm'.repeat(128)];
      const rows = ids.map((memberId, i) => ({ rank: i + 1, memberId, score: i, data: JSON.stringify({ memberId, sql: "'); DELETE FROM leaderboard_periods; --" }) }));
      await archive.writeStandings(board, 5, rows);
      assert.deepEqual(await archive.standings(board, 5, 0, 100), rows);
      for (const r of rows) assert.deepEqual(await archive.standing(board, 5, r.memberId), r, r.memberId);
      assert.equal(await archive.standing(board, 5, "' OR '1'='1"), null);
      await archive.closePeriod({ board, periodStart: 5, periodEnd: 6, members: rows.length });
      assert.deepEqual(
        (await archive.periods(board, 10)).map((p) => [p.board, p.members]),
        [[board, rows.length]],
      );
    }));

  test(`${name}: malformed leaderboard archive arguments are refused with OPT_ERR_INVALID and write nothing`, () =>
    withStore(fixture, async (store) => {
      const archive = store.leaderboardArchive;
      const bad = coded(ErrorCodes.OPT_ERR_INVALID);
      const board = `refused-${uniq()}`;
      const row = { rank: 1, memberId: 'm', score: 1, data: null };
      const period = { board, periodStart: 0, periodEnd: 1, members: 1 };
      for (const b of ["x'; DROP TABLE t;--", `o'brien`, '', 'x'.repeat(65), 'with space', 'é', 'a/b', 'a:b', 42, null]) {
        const label = String(b);
        await assert.rejects(archive.writeStandings(b as never, 0, [row]), bad, label);
        await assert.rejects(archive.closePeriod({ ...period, board: b as never }), bad, label);
        await assert.rejects(archive.periods(b as never, 10), bad, label);
        await assert.rejects(archive.standings(b as never, 0, 0, 10), bad, label);
        await assert.rejects(archive.standing(b as never, 0, 'm'), bad, label);
      }
      for (const time of [-1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1, '0', undefined]) {
        const label = String(time);
        await assert.rejects(archive.writeStandings(board, time as never, [row]), bad, label);
        await assert.rejects(archive.standings(board, time as never, 0, 10), bad, label);
        await assert.rejects(archive.standing(board, time as never, 'm'), bad, label);
        await assert.rejects(archive.closePeriod({ ...period, periodStart: time as never }), bad, label);
        await assert.rejects(archive.closePeriod({ ...period, periodEnd: time as never }), bad, label);
        await assert.rejects(archive.closePeriod({ ...period, members: time as never }), bad, label);
      }
      await assert.rejects(archive.closePeriod(null as never), bad);
      const badRows: unknown[] = [
        { ...row, memberId: 'x'.repeat(129) },
        { ...row, memberId: '' },
        { ...row, memberId: '\ud800' },
        { ...row, memberId: 5 },
        { ...row, score: NaN },
        { ...row, score: Infinity },
        { ...row, score: -Infinity },
        { ...row, score: '1' },
        { ...row, rank: 0 },
        { ...row, rank: -1 },
        { ...row, rank: 1.5 },
        { ...row, rank: 2 ** 53 },
        { ...row, data: 5 },
        { ...row, data: undefined },
        { ...row, data: { a: 1 } },
        { ...row, data: 'lone \udc00' },
        null,
        'row',
      ];
      for (const r of badRows) await assert.rejects(archive.writeStandings(board, 0, [{ ...row, rank: 2 }, r] as never), bad, String(JSON.stringify(r)));
      await assert.rejects(archive.writeStandings(board, 0, 'rows' as never), bad);
      for (const limit of [0, 1001, -1, 1.5, NaN, '10']) {
        await assert.rejects(archive.periods(board, limit as never), bad, String(limit));
        await assert.rejects(archive.standings(board, 0, 0, limit as never), bad, String(limit));
      }
      for (const offset of [-1, 0.5, NaN, Number.MAX_SAFE_INTEGER + 1, '0']) await assert.rejects(archive.standings(board, 0, offset as never, 10), bad, String(offset));
      for (const memberId of ['', 'x'.repeat(129), '\ud800', 7]) await assert.rejects(archive.standing(board, 0, memberId as never), bad, String(memberId));
      assert.deepEqual(await archive.standings(board, 0, 0, 1000), [], 'refused writes wrote nothing');
      assert.deepEqual(await archive.periods(board, 1000), []);
    }));

  runPlayerLogContract(name, fixture);
  runConfigBundleContract(name, fixture);
  runMailContract(name, fixture);
  runMailClaimContract(name, fixture);

  test(`${name}: SQL metacharacters are data, never SQL`, () =>
    withStore(fixture, async (store) => {
      const tag = uniq();
      const names = [`'; DROP TABLE accounts; -- ${tag}`, `Robert"); DROP TABLE players;-- ${tag}`, `a\\' OR '1'='1 ${tag}`, `%_\` ${tag} 🎮`];
      for (const username of names) {
        const a = await store.createAccount({ username, passwordHash: `'"\\;--${tag}` });
        assert.deepEqual(await store.findAccountByUsername(username), a);
        assert.equal(a.passwordHash, `'"\\;--${tag}`);
      }
      const data = {
        sql: "'; DROP TABLE players; --",
        quotes: `"'\`\\`,
        nul: 'a\u0000b',
        unicode: 'héllo wörld ✓ 🎮 \u2028',
        loneSurrogate: '\ud800',
        nested: [{ 'key with \'quote\'': "'); DELETE FROM scenes; --" }],
      };
      const id = `'; DROP TABLE scenes; -- ${tag}`;
      assert.equal(await store.savePlayer(id, data, 0), 1);
      assert.equal(await store.saveScene(id, data, 0), 1);
      assert.deepEqual((await store.loadPlayer(id))?.data, data);
      assert.deepEqual((await store.loadScene(id))?.data, data);
      assert.equal(await store.loadPlayer(`' OR '1'='1`), null);
      // The tables are all still there.
      assert.ok((await store.findAccountByUsername(names[0]!)) !== null);
    }));

  test(`${name}: large JSON (over 100 KB) round-trips`, () =>
    withStore(fixture, async (store) => {
      const id = `big-${uniq()}`;
      const data = {
        blob: 'x'.repeat(100 * 1024),
        items: Array.from({ length: 2000 }, (_, i) => ({ i, name: `item-${i}`, tags: ['a', 'b'] })),
      };
      assert.ok(JSON.stringify(data).length > 150 * 1024);
      assert.equal(await store.saveScene(id, data, 0), 1);
      assert.deepEqual((await store.loadScene(id))?.data, data);
      const bigger = { ...data, blob: 'y'.repeat(300 * 1024) };
      const [r] = await store.saveBatch([{ kind: 'scene', id, data: bigger, expectedVersion: 1 }]);
      assert.deepEqual(r, { ok: true, version: 2 });
      assert.deepEqual((await store.loadScene(id))?.data, bigger);
    }));

  test(`${name}: malformed arguments are refused with OPT_ERR_INVALID`, () =>
    withStore(fixture, async (store) => {
      const bad = coded(ErrorCodes.OPT_ERR_INVALID);
      await assert.rejects(store.savePlayer('', {}, 0), bad);
      await assert.rejects(store.savePlayer('x'.repeat(256), {}, 0), bad);
      await assert.rejects(store.savePlayer(`p-${uniq()}`, {}, 1.5), bad);
      await assert.rejects(store.savePlayer(`p-${uniq()}`, {}, -1), bad);
      await assert.rejects(store.savePlayer(`p-${uniq()}`, undefined, 0), bad);
      await assert.rejects(store.saveScene(`s-${uniq()}`, { n: 1n }, 0), bad);
      await assert.rejects(store.loadPlayer('\ud800'), bad);
      await assert.rejects(store.createAccount({ username: '', passwordHash: 'x' }), bad);
      await assert.rejects(store.createAccount({ username: 'x'.repeat(256), passwordHash: 'x' }), bad);
      // A lookup of a name that cannot exist (user input at login) just finds nothing.
      assert.equal(await store.findAccountByUsername(''), null);
      assert.equal(await store.findAccountByUsername('x'.repeat(1000)), null);
      assert.equal(await store.findAccountByUsername('\udc00'), null);
      await assert.rejects(store.findAccountByUsername(42 as never), bad);
      await assert.rejects(store.saveBatch('nope' as never), bad);
      const max = 'm'.repeat(255) + uniq();
      assert.equal(await store.savePlayer(max.slice(-255), 1, 0), 1, '255 characters is allowed');
    }));

  test(`${name}: close is idempotent and later calls are refused`, async () => {
    const store = await fixture.make();
    const id = `closing-${uniq()}`;
    // A write issued before close() still lands.
    const pending = store.savePlayer(id, { last: true }, 0);
    const logged = store.playerLogs.append([{ playerId: id, at: 1_767_225_600_000, event: 'last.words', sceneId: 's', fields: '{}' }]);
    const published = store.configBundles.publish(`closing-${uniq()}`, '{"last":true}');
    await Promise.all([store.close(), store.close()]);
    assert.equal(await pending, 1);
    await logged;
    const lastSeq = await published;
    await store.close();
    await assert.rejects(store.loadPlayer(id), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.saveBatch([]), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.leaderboardArchive.periods('board', 10), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.leaderboardArchive.writeStandings('board', 0, [{ rank: 1, memberId: 'm', score: 1, data: null }]), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.playerLogs.append([{ playerId: id, at: 1, event: 'closed', sceneId: 's', fields: '{}' }]), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.playerLogs.query({ playerId: id, limit: 10 }), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.playerLogs.prune(1, 10), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.configBundles.publish('closed', '{}'), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.configBundles.latestSeq(), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.configBundles.latest(), coded(ErrorCodes.STO_ERR_CONNECTION));
    await assert.rejects(store.start(), coded(ErrorCodes.STO_ERR_CONNECTION));
    await withStore(fixture, async (again) => {
      assert.equal((await again.loadPlayer(id))?.version, 1);
      assert.deepEqual((await again.playerLogs.query({ playerId: id, limit: 10 })).map((e) => e.event), ['last.words']);
      assert.ok((await again.configBundles.latestSeq()) >= lastSeq, 'the publish issued before close() landed');
    });
  });

  test(`${name}: migrations apply once; running them again is a no-op`, async () => {
    const config = await fixture.freshConfig();
    const before = await getMigrationStatus(config);
    assert.deepEqual(
      before.map((s) => [s.version, s.state]),
      MIGRATIONS.map((m) => [m.version, 'pending']),
    );
    const first = await runMigrations(config);
    assert.deepEqual(
      first.applied.map((s) => s.version),
      MIGRATIONS.map((m) => m.version),
    );
    assert.ok(first.status.every((s) => s.state === 'applied' && typeof s.appliedAt === 'number'));
    const second = await runMigrations(config);
    assert.deepEqual(second.applied, []);
    assert.deepEqual(second.status, first.status);
    assert.deepEqual(await getMigrationStatus(config), first.status);
  });

  test(`${name}: concurrent migrators apply each migration exactly once`, async () => {
    const config = await fixture.freshConfig();
    const reports = await Promise.all([runMigrations(config), runMigrations(config), runMigrations(config)]);
    const applied = reports.flatMap((r) => r.applied.map((s) => s.version)).sort((a, b) => a - b);
    assert.deepEqual(
      applied,
      MIGRATIONS.map((m) => m.version),
    );
    for (const r of reports) assert.ok(r.status.every((s) => s.state === 'applied'));
  });

  test(`${name}: migrate CLI applies, reports --status, and is idempotent`, async () => {
    const config = await fixture.freshConfig();
    const args = [MIGRATE_BIN, ...fixture.cliArgs(config)];
    const env = { ...process.env, GOS_MYSQL_URL: '' };
    const status0 = await run(process.execPath, [...args, '--status'], { env });
    for (const m of MIGRATIONS) assert.match(status0.stdout, new RegExp(`pending +${String(m.version).padStart(3, '0')} ${m.name}`));
    assert.match(status0.stdout, new RegExp(`${MIGRATIONS.length} pending`));

    const up = await run(process.execPath, args, { env });
    assert.match(up.stdout, new RegExp(`applied ${MIGRATIONS.length} migration\\(s\\)`));
    const again = await run(process.execPath, args, { env });
    assert.match(again.stdout, /schema is up to date; nothing applied/);

    const status1 = await run(process.execPath, [...args, '--status'], { env });
    for (const m of MIGRATIONS) assert.match(status1.stdout, new RegExp(`applied +${String(m.version).padStart(3, '0')} ${m.name}  \\d{4}-`));
    assert.match(status1.stdout, /schema is up to date/);

    await assert.rejects(run(process.execPath, [MIGRATE_BIN, '--bogus'], { env }), (err: { code?: unknown; stderr?: string }) => {
      assert.equal(err.code, 2);
      assert.equal(err.stderr, "migrate: unknown option '--bogus' (see --help)\n");
      return true;
    });
  });
}
