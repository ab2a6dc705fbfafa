import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CodedError, ErrorCodes } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { Leaderboards, type LeaderboardBackend } from '../src/index.js';

/** How a contract run gets its backends. */
export interface BackendFixture {
  /**
   * A started backend. Backends made by one fixture share their boards (two engines on one
   * Redis); a memory fixture returns the same backend each time.
   */
  make(): Promise<LeaderboardBackend>;
}

const uniq = (): string => `b${randomBytes(5).toString('hex')}`;

function coded(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof CodedError, `expected a CodedError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

/** A clock tests move by hand. */
function manualClock(start: number): { now: () => number; set: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms) };
}

async function withBoards(fixture: BackendFixture, fn: (lb: Leaderboards) => Promise<void>, extra: Partial<ConstructorParameters<typeof Leaderboards>[0]> = {}): Promise<void> {
  const lb = new Leaderboards({ backend: await fixture.make(), archiver: false, ...extra });
  await lb.start();
  try {
    await fn(lb);
  } finally {
    await lb.close();
  }
}

/** The behaviour every leaderboard backend must have; memory.test.ts and redis.test.ts run it. */
export function runLeaderboardContract(name: string, fixture: BackendFixture): void {
  test(`${name}: best keeps the better score, by the board's order`, () =>
    withBoards(fixture, async (lb) => {
      const hi = uniq();
      await lb.create(hi, { policy: 'best' });
      assert.deepEqual(await lb.submit(hi, 'ann', 50), { score: 50, rank: 1, changed: true });
      assert.deepEqual(await lb.submit(hi, 'ann', 40), { score: 50, rank: 1, changed: false }, 'a worse score is ignored');
      assert.deepEqual(await lb.submit(hi, 'ann', 70), { score: 70, rank: 1, changed: true });
      const lo = uniq();
      await lb.create(lo, { policy: 'best', order: 'asc' });
      await lb.submit(lo, 'ann', 31.5);
      assert.equal((await lb.submit(lo, 'ann', 40)).score, 31.5, 'asc: a higher time is worse');
      assert.equal((await lb.submit(lo, 'ann', 29.25)).score, 29.25);
    }));

  test(`${name}: latest replaces, increment adds (also negative amounts)`, () =>
    withBoards(fixture, async (lb) => {
      const latest = uniq();
      await lb.create(latest, { policy: 'latest' });
      await lb.submit(latest, 'bo', 10);
      assert.deepEqual(await lb.submit(latest, 'bo', 3), { score: 3, rank: 1, changed: true });
      assert.equal((await lb.submit(latest, 'bo', 3)).changed, false, 'the same score again changes nothing');
      const inc = uniq();
      await lb.create(inc, { policy: 'increment' });
      await lb.submit(inc, 'bo', 5);
      await lb.submit(inc, 'bo', 7);
      assert.equal((await lb.submit(inc, 'bo', -2)).score, 10);
      assert.equal((await lb.submit(inc, 'bo', 0.1)).score, 10.1, 'fractions add as doubles');
      assert.equal((await lb.get(inc, 'bo'))?.score, 10.1);
    }));

  test(`${name}: equal scores rank by who reached them first, in both orders`, () =>
    withBoards(fixture, async (lb) => {
      for (const order of ['desc', 'asc'] as const) {
        const b = uniq();
        await lb.create(b, { policy: 'latest', order });
        await lb.submit(b, 'zed', 100);
        await lb.submit(b, 'amy', 100);
        await lb.submit(b, 'kim', 100);
        await lb.submit(b, 'top', order === 'desc' ? 101 : 99);
        assert.deepEqual((await lb.page(b)).entries.map((e) => e.memberId), ['top', 'zed', 'amy', 'kim'], `${order}: arrival order, not names`);
        // zed leaves 100 and comes back: it reached 100 last now.
        await lb.submit(b, 'zed', 50);
        await lb.submit(b, 'zed', 100);
        assert.deepEqual((await lb.page(b)).entries.map((e) => [e.memberId, e.rank]), [['top', 1], ['amy', 2], ['kim', 3], ['zed', 4]]);
      }
    }));

  test(`${name}: get, around, page, count and remove`, () =>
    withBoards(fixture, async (lb) => {
      const b = uniq();
      await lb.create(b, { policy: 'best' });
      for (let i = 1; i <= 30; i++) await lb.submit(b, `m${i}`, i * 10, { data: { name: `Member ${i}`, level: i } });
      assert.equal(await lb.count(b), 30);
      assert.deepEqual(await lb.get(b, 'm30'), { memberId: 'm30', score: 300, rank: 1, data: { name: 'Member 30', level: 30 } });
      assert.equal(await lb.get(b, 'nobody'), null);

      const around = await lb.around(b, 'm15', { before: 2, after: 3 });
      assert.deepEqual(around.map((e) => [e.memberId, e.rank]), [['m17', 14], ['m16', 15], ['m15', 16], ['m14', 17], ['m13', 18], ['m12', 19]]);
      assert.deepEqual((await lb.around(b, 'm30', { before: 5, after: 1 })).map((e) => e.rank), [1, 2], 'cut at the top');
      assert.deepEqual((await lb.around(b, 'm1', { before: 1, after: 5 })).map((e) => e.rank), [29, 30], 'cut at the bottom');
      assert.deepEqual(await lb.around(b, 'nobody'), []);
      assert.equal((await lb.around(b, 'm20')).length, 11, 'five each side by default');

      const page = await lb.page(b, { offset: 10, limit: 5 });
      assert.equal(page.total, 30);
      assert.deepEqual(page.entries.map((e) => [e.memberId, e.rank, e.score]), [['m20', 11, 200], ['m19', 12, 190], ['m18', 13, 180], ['m17', 14, 170], ['m16', 15, 160]]);
      assert.deepEqual((await lb.page(b, { offset: 100 })).entries, [], 'past the end');

      assert.equal(await lb.remove(b, 'm30'), true);
      assert.equal(await lb.remove(b, 'm30'), false);
      assert.equal(await lb.count(b), 29);
      assert.equal((await lb.get(b, 'm29'))?.rank, 1);
      assert.equal((await lb.submit(b, 'm30', 1)).rank, 30, 'a removed member starts again');
      assert.equal((await lb.get(b, 'm30'))?.data, null, 'and without its old data');
    }));

  test(`${name}: member data is kept, replaced and removed`, () =>
    withBoards(fixture, async (lb) => {
      const b = uniq();
      await lb.create(b, { policy: 'best' });
      await lb.submit(b, 'x', 1, { data: { guild: 'Knights' } });
      await lb.submit(b, 'x', 0);
      assert.deepEqual((await lb.get(b, 'x'))?.data, { guild: 'Knights' }, 'no data given: kept');
      await lb.submit(b, 'x', 0, { data: 'plain' });
      assert.equal((await lb.get(b, 'x'))?.data, 'plain', 'data changes even when the score does not');
      await lb.submit(b, 'x', 0, { data: null });
      assert.equal((await lb.get(b, 'x'))?.data, null);
      await assert.rejects(lb.submit(b, 'x', 0, { data: 'y'.repeat(3000) }), coded(ErrorCodes.OPT_ERR_INVALID), 'over 2 KiB');
    }));

  test(`${name}: create is idempotent, a different definition is refused, list and delete`, () =>
    withBoards(fixture, async (lb) => {
      const b = uniq();
      const info = await lb.create(b, { policy: 'increment', reset: '0 0 * * 1' });
      assert.equal(info.name, b);
      assert.deepEqual(info.definition, { policy: 'increment', order: 'desc', reset: '0 0 * * 1', timezone: 'UTC', archiveTop: null });
      assert.equal(info.members, 0);
      assert.ok(info.periodEnd !== null && info.periodEnd > Date.now() && info.periodStart <= Date.now());
      await lb.create(b, { policy: 'increment', reset: '0 0 * * 1' });
      await assert.rejects(lb.create(b, { policy: 'best', reset: '0 0 * * 1' }), coded(ErrorCodes.LB_ERR_BOARD_EXISTS));
      await lb.submit(b, 'a', 1);
      const listed = (await lb.list()).find((i) => i.name === b);
      assert.equal(listed?.members, 1);
      assert.equal(await lb.delete(b), true);
      assert.equal(await lb.delete(b), false);
      assert.equal((await lb.list()).some((i) => i.name === b), false);
      await assert.rejects(lb.submit(b, 'a', 1), coded(ErrorCodes.LB_ERR_UNKNOWN_BOARD));
      await assert.rejects(lb.page(uniq()), coded(ErrorCodes.LB_ERR_UNKNOWN_BOARD));
      // Created again: empty, whatever the old one held.
      await lb.create(b, { policy: 'best' });
      assert.equal(await lb.count(b), 0);
    }));

  test(`${name}: a board deleted and created again by another process is never written with the old definition`, async () => {
    const a = new Leaderboards({ backend: await fixture.make(), archiver: false, definitionCacheMs: 60_000 });
    const other = new Leaderboards({ backend: await fixture.make(), archiver: false });
    await a.start();
    await other.start();
    try {
      const b = uniq();
      await a.create(b, { policy: 'increment' });
      await a.submit(b, 'p', 5);
      // `a` caches the definition for a minute; the other process replaces the board meanwhile.
      await other.delete(b);
      await other.create(b, { policy: 'latest' });
      assert.deepEqual(await a.submit(b, 'p', 2), { score: 2, rank: 1, changed: true }, 'the new board and its policy (latest), not +2 on the old');
      await other.delete(b);
      await assert.rejects(a.get(b, 'p'), coded(ErrorCodes.LB_ERR_UNKNOWN_BOARD));
    } finally {
      await a.close();
      await other.close();
    }
  });

  test(`${name}: bad input is refused with OPT_ERR_INVALID; odd member ids round-trip`, () =>
    withBoards(fixture, async (lb) => {
      const b = uniq();
      await lb.create(b, { policy: 'best' });
      const invalid = coded(ErrorCodes.OPT_ERR_INVALID);
      for (const name of ["x'; DROP TABLE t;--", '', 'a'.repeat(65), 'a b', '{tag}', 'ü']) await assert.rejects(lb.create(name, { policy: 'best' }), invalid, name);
      await assert.rejects(lb.create(uniq(), { policy: 'most' as 'best' }), invalid);
      await assert.rejects(lb.create(uniq(), { policy: 'best', reset: 'every day' }), invalid);
      await assert.rejects(lb.create(uniq(), { policy: 'best', reset: '0 0 30 2 *' }), invalid, '30 February never comes');
      await assert.rejects(lb.create(uniq(), { policy: 'best', reset: '* * * * * *' }), invalid, 'a period a second');
      await assert.rejects(lb.create(uniq(), { policy: 'best', reset: '2027-01-01T00:00:00' }), invalid, 'a single date');
      await assert.rejects(lb.create(uniq(), { policy: 'best', reset: '0 0 * * *', timezone: 'Mars/Olympus' }), invalid);
      await assert.rejects(lb.create(uniq(), { policy: 'best', extra: 1 } as never), invalid);
      for (const score of [NaN, Infinity, 2 ** 60, '5' as unknown as number]) await assert.rejects(lb.submit(b, 'm', score), invalid, String(score));
      for (const id of ['', 'x'.repeat(129), '\uD800', 5 as unknown as string]) await assert.rejects(lb.submit(b, id, 1), invalid, String(id));
      await assert.rejects(lb.page(b, { limit: 0 }), invalid);
      await assert.rejects(lb.page(b, { limit: 1001 }), invalid);
      await assert.rejects(lb.page(b, { offset: -1 }), invalid);
      await assert.rejects(lb.around(b, 'm', { before: 1.5 }), invalid);
      const odd = ["o'brien\"; DEL *", '😀 🏆', ':::', '000000000000000:x', 'a\u0000b'];
      for (const [i, id] of odd.entries()) await lb.submit(b, id, i);
      assert.deepEqual((await lb.page(b)).entries.map((e) => e.memberId).sort(), [...odd].sort());
      for (const id of odd) assert.equal((await lb.get(b, id))?.memberId, id);
    }));

  test(`${name}: periods roll over on the reset schedule and closed ones are archived once, in rank order`, async () => {
    const clock = manualClock(Date.parse('2026-03-02T10:00:00Z'));
    const store = new SqliteStore({ file: ':memory:' });
    await store.start();
    const one = new Leaderboards({ backend: await fixture.make(), archive: store.leaderboardArchive, archiveGraceMs: 1000, archiveIntervalMs: 3_600_000, owner: 'one', now: clock.now });
    const two = new Leaderboards({ backend: await fixture.make(), archive: store.leaderboardArchive, archiveGraceMs: 1000, archiveIntervalMs: 3_600_000, owner: 'two', now: clock.now });
    await one.start();
    await two.start();
    try {
      const b = uniq();
      const info = await one.create(b, { policy: 'increment', reset: '0 0 * * *', archiveTop: 3 });
      assert.equal(info.periodStart, Date.parse('2026-03-02T00:00:00Z'));
      assert.equal(info.periodEnd, Date.parse('2026-03-03T00:00:00Z'));
      await one.submit(b, 'a', 10, { data: { n: 'A' } });
      await one.submit(b, 'b', 30);
      await two.submit(b, 'c', 20);
      await two.submit(b, 'd', 5);
      await one.submit(b, 'e', 20);

      // Just after midnight: a new, empty period; the old one is within its grace.
      clock.set(Date.parse('2026-03-03T00:00:00.500Z'));
      assert.equal(await one.count(b), 0);
      assert.equal((await one.submit(b, 'a', 1)).rank, 1);
      assert.equal(await one.archiveNow(), 0, 'within the grace');

      clock.set(Date.parse('2026-03-03T00:00:02Z'));
      const [n1, n2] = await Promise.all([one.archiveNow(), two.archiveNow()]);
      assert.equal(n1 + n2, 1, 'one archiver took the period');
      assert.equal(await one.archiveNow(), 0, 'nothing left');
      const periods = await two.periods(b);
      assert.equal(periods.length, 1);
      assert.deepEqual({ ...periods[0], archivedAt: 0 }, { periodStart: Date.parse('2026-03-02T00:00:00Z'), periodEnd: Date.parse('2026-03-03T00:00:00Z'), members: 3, archivedAt: 0 });
      const standings = await one.archived(b, periods[0]!.periodStart);
      assert.deepEqual(standings.map((e) => [e.rank, e.memberId, e.score]), [[1, 'b', 30], [2, 'c', 20], [3, 'e', 20]], 'the top 3 (archiveTop), ties by arrival');
      assert.deepEqual(await one.archivedMember(b, periods[0]!.periodStart, 'b'), { memberId: 'b', score: 30, rank: 1, data: null });
      assert.equal(await one.archivedMember(b, periods[0]!.periodStart, 'a'), null, 'cut by archiveTop');
      assert.equal(await one.count(b), 1, 'the current period is untouched');
    } finally {
      await one.close();
      await two.close();
      await store.close();
    }
  });

  test(`${name}: a period closed while nobody ran is archived by the next archiver; without an archive the archive calls are refused`, async () => {
    const clock = manualClock(Date.parse('2026-05-10T12:00:00Z'));
    const store = new SqliteStore({ file: ':memory:' });
    await store.start();
    const b = uniq();
    try {
      await withBoards(
        fixture,
        async (lb) => {
          await lb.create(b, { policy: 'best', reset: '0 * * * *', archiveTop: null });
          for (let i = 0; i < 2500; i++) await lb.submit(b, `p${i}`, i);
        },
        { now: clock.now },
      );
      // Hours later, another process starts: its first pass archives the closed hour, all 2,500 members.
      clock.set(Date.parse('2026-05-10T15:30:00Z'));
      await withBoards(
        fixture,
        async (lb) => {
          // Its start ran a pass already (other boards of the suite may be archived by it too).
          await lb.archiveNow();
          const [period] = await lb.periods(b);
          assert.equal(period?.members, 2500);
          assert.equal(period?.periodEnd, Date.parse('2026-05-10T13:00:00Z'));
          const last = await lb.archived(b, period?.periodStart ?? -1, { offset: 2499, limit: 5 });
          assert.deepEqual(last.map((e) => [e.rank, e.memberId]), [[2500, 'p0']]);
        },
        { now: clock.now, archive: store.leaderboardArchive, archiver: true, archiveIntervalMs: 3_600_000 },
      );
      await withBoards(fixture, async (lb) => {
        await assert.rejects(lb.periods(b), coded(ErrorCodes.LB_ERR_NOT_CONFIGURED));
        await assert.rejects(lb.archiveNow(), coded(ErrorCodes.LB_ERR_NOT_CONFIGURED));
      });
    } finally {
      await store.close();
    }
  });
}
