import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { PlayerLogEntry, StoredPlayerLog } from '../src/index.js';
import { coded, uniq, withStore, type StoreFixture } from './contract-helpers.js';

/** 2026-01-01: every test's events are at or after it, except the pruning test's (below {@link PRUNE_RANGE}). */
const T0 = 1_767_225_600_000;
/** Times below this are the pruning test's alone: a prune counts the rows of every player. */
const PRUNE_RANGE = 1_000_000;

const bad = coded(ErrorCodes.OPT_ERR_INVALID);

/** `OPT_ERR_INVALID` whose message names `what` (an entry's field, an argument). */
function invalidNaming(what: RegExp): (err: unknown) => boolean {
  return (err) => {
    bad(err);
    assert.ok(err instanceof CodedError);
    assert.match(err.message, what);
    return true;
  };
}

const withoutId = (logs: readonly StoredPlayerLog[]): PlayerLogEntry[] => logs.map(({ id: _, ...e }) => e);

function assertIncreasingIds(logs: readonly StoredPlayerLog[]): void {
  for (const e of logs) assert.ok(Number.isSafeInteger(e.id) && e.id > 0, `id ${String(e.id)}`);
  for (let i = 1; i < logs.length; i++) assert.ok(logs[i]!.id > logs[i - 1]!.id, `ids increase: ${logs[i - 1]!.id} then ${logs[i]!.id}`);
}

/** Fields text of exactly `bytes` bytes of UTF-8 (`bytes` even, at least 8), of two-byte characters. */
const fieldsOfBytes = (bytes: number): string => `{"s":"${'é'.repeat((bytes - 8) / 2)}"}`;

/** The contract of `Store.playerLogs`; run from `runStoreContract` against every store. */
export function runPlayerLogContract(name: string, fixture: StoreFixture): void {
  test(`${name}: player log events round-trip (fields text exact, times exact), with ids increasing in insertion order`, () =>
    withStore(fixture, async (store) => {
      const logs = store.playerLogs;
      const playerId = `logger-${uniq()}`;
      assert.deepEqual(await logs.query({ playerId, limit: 10 }), []);
      const first: PlayerLogEntry[] = [
        { playerId, at: T0 + 5, event: 'shop.buy', sceneId: 'world:1', fields: '{"item":"sword","price":120}' },
        { playerId, at: T0 + 6, event: 'quest:done', sceneId: 'dungeon-7', fields: '{ "quest" : "q17",\n\t"nested": {"a": [1, 2.50, null, 1e3]}, "text": "é 🎮 \\u0000 \'q\' \\"dq\\"" }' },
        { playerId, at: T0 + 7, event: 'A-z_0.9:x', sceneId: 'é 🎮 scene', fields: '{}' },
      ];
      await logs.append(first);
      const second: PlayerLogEntry[] = [
        { playerId, at: T0 + 8, event: 'mail.claimed', sceneId: 'svc:mail', fields: '{"mail":42,"items":["potion"]}' },
        { playerId, at: Number.MAX_SAFE_INTEGER, event: 'far.future', sceneId: 'world:1', fields: '{"x":"\u2028"}' },
      ];
      await logs.append(second);
      const read = await logs.query({ playerId, limit: 10 });
      assert.deepEqual(withoutId(read), [...first, ...second]);
      assertIncreasingIds(read);
      assert.deepEqual(await logs.query({ playerId, from: Number.MAX_SAFE_INTEGER, limit: 10 }), read.slice(4));
      assert.deepEqual(await logs.query({ playerId, to: Number.MAX_SAFE_INTEGER, limit: 10 }), read.slice(0, 4), 'to is exclusive');
      assert.deepEqual(await logs.query({ playerId, limit: 2 }), read.slice(0, 2), 'limit');
    }));

  test(`${name}: player log events are read by time, then id (insertion order) among equal times`, () =>
    withStore(fixture, async (store) => {
      const logs = store.playerLogs;
      const playerId = `ordered-${uniq()}`;
      const at = [30, 10, 20, 10, 30, 10];
      await logs.append(at.map((d, i) => ({ playerId, at: T0 + d, event: `e${i}`, sceneId: 's', fields: '{}' })));
      await logs.append([{ playerId, at: T0 + 10, event: 'later', sceneId: 's', fields: '{}' }]);
      const read = await logs.query({ playerId, limit: 100 });
      assert.deepEqual(
        read.map((e) => e.event),
        ['e1', 'e3', 'e5', 'later', 'e2', 'e0', 'e4'],
      );
      for (let i = 1; i < read.length; i++) if (read[i]!.at === read[i - 1]!.at) assert.ok(read[i]!.id > read[i - 1]!.id);
    }));

  test(`${name}: player log queries: from is inclusive, to exclusive, event filters`, () =>
    withStore(fixture, async (store) => {
      const logs = store.playerLogs;
      const playerId = `ranged-${uniq()}`;
      const events = ['shop.buy', 'quest:done', 'shop.buy', 'shop.buyx', 'shop.buy', 'Shop.buy', 'quest:done', 'shop.buy', 'login', 'shop.buy'];
      await logs.append(events.map((event, i) => ({ playerId, at: T0 + i * 10, event, sceneId: 's', fields: `{"i":${i}}` })));
      const all = await logs.query({ playerId, limit: 100 });
      assert.equal(all.length, 10);
      const fieldsOf = (read: StoredPlayerLog[]): number[] => read.map((e) => (JSON.parse(e.fields) as { i: number }).i);
      assert.deepEqual(fieldsOf(await logs.query({ playerId, from: T0 + 30, to: T0 + 70, limit: 100 })), [3, 4, 5, 6]);
      assert.deepEqual(fieldsOf(await logs.query({ playerId, from: T0 + 31, to: T0 + 71, limit: 100 })), [4, 5, 6, 7]);
      assert.deepEqual(fieldsOf(await logs.query({ playerId, from: T0 + 30, limit: 100 })), [3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(fieldsOf(await logs.query({ playerId, to: T0 + 30, limit: 100 })), [0, 1, 2]);
      assert.deepEqual(await logs.query({ playerId, to: T0, limit: 100 }), []);
      assert.deepEqual(await logs.query({ playerId, from: T0 + 50, to: T0 + 50, limit: 100 }), []);
      assert.deepEqual(await logs.query({ playerId, from: T0 + 60, to: T0 + 50, limit: 100 }), []);
      assert.deepEqual(await logs.query({ playerId, from: T0 + 91, limit: 100 }), []);
      assert.deepEqual(fieldsOf(await logs.query({ playerId, event: 'shop.buy', limit: 100 })), [0, 2, 4, 7, 9], 'exact and case-sensitive');
      assert.deepEqual(fieldsOf(await logs.query({ playerId, event: 'shop.buy', from: T0 + 20, to: T0 + 90, limit: 100 })), [2, 4, 7]);
      assert.deepEqual(fieldsOf(await logs.query({ playerId, event: 'shop.buy', limit: 2 })), [0, 2]);
      assert.deepEqual(fieldsOf(await logs.query({ playerId, event: 'quest:done', limit: 100 })), [1, 6]);
      assert.deepEqual(await logs.query({ playerId, event: 'nothing', limit: 100 }), []);
      assert.deepEqual(await logs.query({ playerId, event: 'shop', limit: 100 }), [], 'no prefix match');
    }));

  test(`${name}: player logs are read in pages with after, across equal times, each event once; other players are not read`, () =>
    withStore(fixture, async (store) => {
      const logs = store.playerLogs;
      const playerId = `paged-${uniq()}`;
      // Four events a millisecond, appended newest first in three calls, with another player's
      // events between them: neither id order nor insertion order is the answer's order.
      const mine = Array.from({ length: 25 }, (_, i) => ({ playerId, at: T0 + Math.floor(i / 4), event: i % 2 === 0 ? 'even' : 'odd', sceneId: 's', fields: `{"i":${i}}` }));
      const others = [playerId.toUpperCase(), `${playerId} `, `${playerId}x`, playerId.slice(0, -1)];
      const noise = (i: number): PlayerLogEntry[] => others.map((other) => ({ playerId: other, at: T0 + Math.floor(i / 4), event: 'even', sceneId: 's', fields: '{"noise":true}' }));
      const shuffled = [...mine].reverse();
      for (const part of [shuffled.slice(0, 7), shuffled.slice(7, 19), shuffled.slice(19)]) await logs.append(part.flatMap((e, k) => (k % 3 === 0 ? [e, ...noise(k)] : [e])));
      const all = await logs.query({ playerId, limit: 100 });
      assert.equal(all.length, 25);
      assert.ok(all.every((e) => e.playerId === playerId && e.fields !== '{"noise":true}'), 'other players are not read');
      const pages: StoredPlayerLog[][] = [];
      let after: { at: number; id: number } | undefined;
      for (;;) {
        const page = await logs.query({ playerId, limit: 10, ...(after === undefined ? {} : { after }) });
        if (page.length === 0) break;
        pages.push(page);
        const last = page[page.length - 1]!;
        after = { at: last.at, id: last.id };
      }
      assert.deepEqual(
        pages.map((p) => p.length),
        [10, 10, 5],
      );
      assert.deepEqual(pages.flat(), all);
      assert.equal(new Set(pages.flat().map((e) => e.id)).size, 25, 'each event once');
      // Pages of a filtered range.
      const evens = await logs.query({ playerId, event: 'even', from: T0 + 1, limit: 100 });
      const paged: StoredPlayerLog[] = [];
      for (let page = await logs.query({ playerId, event: 'even', from: T0 + 1, limit: 3 }); page.length > 0; ) {
        paged.push(...page);
        const last = page[page.length - 1]!;
        page = await logs.query({ playerId, event: 'even', from: T0 + 1, limit: 3, after: { at: last.at, id: last.id } });
      }
      assert.deepEqual(paged, evens);
      // `from` later than `after` wins; `after` an event's time and id leaves only later ones.
      assert.deepEqual(await logs.query({ playerId, from: T0 + 5, after: { at: T0, id: all[0]!.id }, limit: 100 }), all.filter((e) => e.at >= T0 + 5));
      assert.deepEqual(await logs.query({ playerId, after: { at: all[24]!.at, id: all[24]!.id }, limit: 100 }), []);
      assert.deepEqual(await logs.query({ playerId, after: { at: 0, id: 0 }, limit: 100 }), all);
      for (const other of others) assert.ok((await logs.query({ playerId: other, limit: 100 })).every((e) => e.playerId === other && e.fields === '{"noise":true}'));
    }));

  test(`${name}: player logs are pruned oldest first, at most limit a call, newer ones kept; the count is returned`, () =>
    withStore(fixture, async (store) => {
      const logs = store.playerLogs;
      const a = `prune-a-${uniq()}`;
      const b = `prune-b-${uniq()}`;
      const e = (playerId: string, at: number): PlayerLogEntry => ({ playerId, at, event: 'old', sceneId: 's', fields: `{"at":${at}}` });
      // Appended out of time order: the oldest are not the lowest ids.
      await logs.append([e(a, 500), e(b, 50), e(a, 300), e(a, 0), e(b, 600), e(a, 200), e(b, 150), e(a, 100), e(a, 300), e(b, 300), e(a, T0)]);
      const times = async (playerId: string): Promise<number[]> => (await logs.query({ playerId, limit: 100 })).map((x) => x.at);
      assert.equal(await logs.prune(0, 100), 0, 'nothing is older than 0');
      assert.equal(await logs.prune(300, 3), 3);
      assert.deepEqual(await times(a), [200, 300, 300, 500, T0]);
      assert.deepEqual(await times(b), [150, 300, 600]);
      assert.equal(await logs.prune(300, 100), 2, 'only those older than before');
      assert.equal(await logs.prune(300, 100), 0);
      assert.deepEqual(await times(a), [300, 300, 500, T0]);
      assert.deepEqual(await times(b), [300, 600]);
      assert.equal(await logs.prune(301, 1), 1);
      assert.equal((await times(a)).length + (await times(b)).length, 5, 'one of the three at 300 went');
      assert.equal(await logs.prune(PRUNE_RANGE, 100_000), 4);
      assert.deepEqual(await times(a), [T0], 'the newest is kept');
      assert.deepEqual(await times(b), []);
      assert.equal(await logs.prune(PRUNE_RANGE, 100_000), 0);
    }));

  test(`${name}: append takes up to 10,000 events a call, and fields of 4,096 bytes; 10,001 are refused and nothing is written`, () =>
    withStore(fixture, async (store) => {
      const logs = store.playerLogs;
      const playerId = `bulk-log-${uniq()}`;
      const many = Array.from({ length: 10_000 }, (_, i) => ({ playerId, at: T0 + i, event: 'tick', sceneId: 'world:1', fields: `{"i":${i}}` }));
      await assert.rejects(logs.append([...many, { ...many[0]!, at: T0 - 1 }]), invalidNaming(/10000/));
      assert.deepEqual(await logs.query({ playerId, limit: 10 }), [], 'a refused call writes nothing');
      await logs.append(many);
      const read = await logs.query({ playerId, limit: 10_000 });
      assert.deepEqual(withoutId(read), many);
      assertIncreasingIds(read);
      // Bytes, not characters: 4,096 bytes of two-byte characters (2,048 of them) are the most.
      const largest = fieldsOfBytes(4096);
      assert.equal(Buffer.byteLength(largest), 4096);
      const big = Array.from({ length: 1500 }, (_, i) => ({ playerId: `${playerId}-big`, at: T0 + i, event: 'big', sceneId: 's', fields: largest }));
      await logs.append(big);
      assert.deepEqual(withoutId(await logs.query({ playerId: `${playerId}-big`, limit: 10_000 })), big);
    }));

  test(`${name}: an invalid event among valid ones refuses the whole append, naming the entry and its field`, () =>
    withStore(fixture, async (store) => {
      const logs = store.playerLogs;
      const playerId = `all-or-none-${uniq()}`;
      const ok = (i: number): PlayerLogEntry => ({ playerId, at: T0 + i, event: 'ok', sceneId: 's', fields: '{}' });
      const cases: Array<[unknown, RegExp]> = [
        [{ ...ok(2), event: "x'; DROP TABLE player_logs;--" }, /entries\[2\]\.event/],
        [{ ...ok(2), playerId: '' }, /entries\[2\]\.playerId/],
        [{ ...ok(2), sceneId: 'x'.repeat(256) }, /entries\[2\]\.sceneId/],
        [{ ...ok(2), at: NaN }, /entries\[2\]\.at/],
        [{ ...ok(2), fields: 'not json' }, /entries\[2\]\.fields/],
        [{ ...ok(2), fields: '[1]' }, /entries\[2\]\.fields/],
        [{ ...ok(2), fields: fieldsOfBytes(4098) }, /entries\[2\]\.fields/],
        [null, /entries\[2\]/],
      ];
      for (const [entry, what] of cases) await assert.rejects(logs.append([ok(0), ok(1), entry as PlayerLogEntry, ok(3)]), invalidNaming(what), JSON.stringify(entry));
      assert.deepEqual(await logs.query({ playerId, limit: 100 }), [], 'nothing written');
    }));

  test(`${name}: player log ids with SQL metacharacters are data; malformed arguments are refused with OPT_ERR_INVALID and write nothing`, () =>
    withStore(fixture, async (store) => {
      const logs = store.playerLogs;
      const sql = "x'; DROP TABLE player_logs;--";
      // As a player or scene id (any string): stored and read back exactly.
      const odd = `${sql} ${uniq()}`;
      const entry = { playerId: odd, at: T0, event: 'sql.data', sceneId: `world'); DELETE FROM player_logs; --`, fields: JSON.stringify({ sql, quotes: `"'\`\\` }) };
      await logs.append([entry]);
      assert.deepEqual(withoutId(await logs.query({ playerId: odd, limit: 10 })), [entry]);
      assert.deepEqual(await logs.query({ playerId: "' OR '1'='1", limit: 10 }), []);
      const longest = `${uniq()}${'p'.repeat(247)}`;
      await logs.append([{ ...entry, playerId: longest, sceneId: 'é 🎮'.repeat(51) }]);
      assert.equal((await logs.query({ playerId: longest, limit: 10 }))[0]?.sceneId, 'é 🎮'.repeat(51), 'a player id of 255 characters');

      // As an event name (ASCII letters, digits, _ . : - only): refused.
      const playerId = `refused-${uniq()}`;
      const ok: PlayerLogEntry = { playerId, at: T0, event: 'ok', sceneId: 's', fields: '{}' };
      const badEntries: Array<[string, unknown[]]> = [
        ['event', [sql, '', 'x'.repeat(65), 'with space', 'é', 'a/b', "o'brien", 5, null, undefined]],
        ['playerId', ['', 'x'.repeat(256), '\ud800', 5, null, undefined]],
        ['sceneId', ['', 'x'.repeat(256), 'lone \udc00', 5, null, undefined]],
        ['at', [NaN, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Infinity, '0', null, undefined]],
        ['fields', ['not json', '', '{"a":1', '[1,2]', '[]', 'null', '"text"', '42', 'true', fieldsOfBytes(4098), `{"s":"${'x'.repeat(4089)}"}`, '{"s":"\ud800"}', { a: 1 }, 5, null, undefined]],
      ];
      for (const [field, values] of badEntries) {
        for (const value of values) await assert.rejects(logs.append([{ ...ok, [field]: value }]), invalidNaming(new RegExp(`entries\\[0\\]\\.${field}`)), `${field}: ${String(value)}`);
      }
      for (const entries of ['x', null, {}, [], [null], ['entry'], [[]]]) await assert.rejects(logs.append(entries as never), bad, JSON.stringify(entries));
      assert.deepEqual(await logs.query({ playerId, limit: 100 }), [], 'refused appends wrote nothing');

      const q = { playerId, limit: 10 };
      const badQueries: unknown[] = [
        ...[0, 10_001, -1, 1.5, NaN, '10', null, undefined].map((limit) => ({ ...q, limit })),
        ...[-1, NaN, 1.5, Number.MAX_SAFE_INTEGER + 1, '0', null].map((from) => ({ ...q, from })),
        ...[-1, NaN, 1.5, Infinity, '0', null].map((to) => ({ ...q, to })),
        ...[sql, '', 'x'.repeat(65), 'é', 5, null].map((event) => ({ ...q, event })),
        ...[null, 'x', { at: NaN, id: 1 }, { at: -1, id: 1 }, { at: 1, id: -1 }, { at: 1, id: 1.5 }, { at: 1 }, { id: 1 }].map((after) => ({ ...q, after })),
        ...['', 'x'.repeat(256), '\ud800', 5, null, undefined].map((id) => ({ ...q, playerId: id })),
        null,
        'query',
      ];
      for (const query of badQueries) await assert.rejects(logs.query(query as never), bad, JSON.stringify(query));
      for (const before of [-1, NaN, 1.5, Number.MAX_SAFE_INTEGER + 1, '0', null, undefined]) await assert.rejects(logs.prune(before as never, 10), bad, String(before));
      for (const limit of [0, 100_001, -1, 1.5, NaN, '10', null, undefined]) await assert.rejects(logs.prune(PRUNE_RANGE, limit as never), bad, String(limit));
      assert.equal(await logs.prune(0, 100_000), 0, '100,000 is the most');
    }));
}
