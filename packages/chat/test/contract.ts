import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { MAX_BLOCKED, type ChatLine } from '../src/index.js';
import { runArgumentContract } from './contract-args.js';
import { runFanoutContract } from './contract-fanout.js';
import { backendNow, coded, compareIds, KEEP, said, texts, uniq, untilBackendTime, withBackends, type ChatFixture } from './helpers.js';

export type { ChatFixture } from './helpers.js';

/** The behaviour every chat backend must have; memory.test.ts and redis.test.ts run it. */
export function runChatContract(name: string, fixture: ChatFixture): void {
  test(`${name}: append gives increasing ids on the backend's clock; history returns the lines oldest first, verbatim`, () =>
    withBackends(fixture, 2, async (a, b) => {
      const c = uniq();
      const t0 = await backendNow(a);
      const lines: ChatLine[] = [];
      for (let i = 0; i < 6; i++) lines.push(await (i % 2 === 0 ? a : b).append(said(c, `line ${i}`, `p${i}`, i === 0 ? '' : `Name ${i}`), KEEP));
      const t1 = await backendNow(a);
      for (const [i, l] of lines.entries()) {
        assert.deepEqual({ ...l, id: '', at: 0 }, { id: '', channel: c, from: `p${i}`, name: i === 0 ? '' : `Name ${i}`, text: `line ${i}`, at: 0 });
        assert.match(l.id, /^\d+-\d+$/);
        assert.equal(l.at, Number(l.id.split('-')[0]), 'the time is the id’s time part');
        assert.ok(l.at >= t0 && l.at <= t1, `${l.at} within [${t0}, ${t1}]`);
        if (i > 0) assert.ok(compareIds(lines[i - 1]!.id, l.id) < 0, `${lines[i - 1]!.id} < ${l.id}`);
      }
      assert.deepEqual(await b.history(c, 100), lines, 'both gateways see one history');
      assert.deepEqual(await a.history(uniq(), 10), [], 'a channel never said anything on');
    }));

  test(`${name}: history pages back with before (exclusive), limit at most`, () =>
    withBackends(fixture, 1, async (b) => {
      const c = uniq('scene');
      const lines: ChatLine[] = [];
      for (let i = 0; i < 12; i++) lines.push(await b.append(said(c, `l${i}`), KEEP));
      assert.deepEqual(await b.history(c, 5), lines.slice(7));
      const pages: ChatLine[][] = [];
      let before: string | undefined;
      for (;;) {
        const page = await b.history(c, 5, before);
        if (page.length === 0) break;
        pages.unshift(page);
        before = page[0]!.id;
      }
      assert.deepEqual(pages.map((p) => p.length), [2, 5, 5]);
      assert.deepEqual(pages.flat(), lines, 'the pages join into the whole history');
      assert.deepEqual(await b.history(c, 100, lines[0]!.id), [], 'nothing before the first line');
      assert.deepEqual(await b.history(c, 100, '0-0'), []);
      assert.deepEqual(await b.history(c, 3, `${Number.MAX_SAFE_INTEGER}-0`), lines.slice(9), 'a bound after every line');
      // A bound that is no line's id: the lines before it.
      const bound = `${lines[4]!.at}-${Number.MAX_SAFE_INTEGER}`;
      assert.deepEqual(await b.history(c, 100, bound), lines.filter((l) => compareIds(l.id, bound) < 0));
      assert.deepEqual(await b.history(c, 1), [lines[11]]);
    }));

  test(`${name}: retention keeps at most maxLines, whatever came before`, () =>
    withBackends(fixture, 1, async (b) => {
      const c = uniq();
      for (let i = 0; i < 7; i++) await b.append(said(c, `l${i}`), { maxLines: 3, maxAgeMs: 60_000 });
      assert.deepEqual(texts(await b.history(c, 100)), ['l4', 'l5', 'l6']);
      await b.append(said(c, 'l7'), { maxLines: 5, maxAgeMs: 60_000 });
      assert.deepEqual(texts(await b.history(c, 100)), ['l4', 'l5', 'l6', 'l7'], 'trimmed lines do not come back');
      await b.append(said(c, 'l8'), { maxLines: 1, maxAgeMs: 60_000 });
      assert.deepEqual(texts(await b.history(c, 100)), ['l8']);
    }));

  test(`${name}: retention trims lines older than maxAgeMs as new ones come, and a channel left silent that long is gone`, () =>
    withBackends(fixture, 1, async (b) => {
      const c = uniq();
      const old = await b.append(said(c, 'old'), { maxLines: 100, maxAgeMs: 60_000 });
      await untilBackendTime(b, old.at + 1001);
      await b.append(said(c, 'mid'), { maxLines: 100, maxAgeMs: 60_000 });
      assert.deepEqual(texts(await b.history(c, 100)), ['old', 'mid'], 'a longer maxAgeMs keeps it');
      await b.append(said(c, 'new'), { maxLines: 100, maxAgeMs: 1000 });
      assert.deepEqual(texts(await b.history(c, 100)), ['mid', 'new'], 'older than 1 s before the newest line: trimmed');

      const quiet = uniq();
      await b.append(said(quiet, 'hello'), { maxLines: 100, maxAgeMs: 1000 });
      assert.equal((await b.history(quiet, 10)).length, 1);
      await waitFor(async () => (await b.history(quiet, 10)).length === 0, { message: 'the silent channel to expire' });
      const again = await b.append(said(quiet, 'again'), KEEP);
      assert.deepEqual(await b.history(quiet, 10), [again]);
    }));

  test(`${name}: held lines come oldest first, at most max (the oldest dropped), taken once`, () =>
    withBackends(fixture, 2, async (a, b) => {
      const p = uniq('player');
      const c = `p:${p}`;
      const lines: ChatLine[] = [];
      for (let i = 0; i < 5; i++) lines.push(await a.append(said(c, `private ${i}`, 'sender', 'Sender'), KEEP));
      for (const l of lines) await a.hold(p, l, 3, 60_000);
      assert.deepEqual(await b.takeHeld(p), lines.slice(2), 'the newest 3, oldest first, as they were');
      assert.deepEqual(await a.takeHeld(p), [], 'taken already');
      assert.deepEqual(await a.takeHeld(uniq('player')), []);
      await b.hold(p, lines[0]!, 1000, 60_000);
      assert.deepEqual(await a.takeHeld(p), [lines[0]], 'held again after a take');
    }));

  test(`${name}: a held line released (it reached the player online) is no longer held; the others are`, () =>
    withBackends(fixture, 2, async (a, b) => {
      const p = uniq('player');
      const c = `p:${p}`;
      const lines: ChatLine[] = [];
      for (let i = 0; i < 3; i++) lines.push(await a.append(said(c, `private ${i} "id":"x",`, 'sender', 'Sender'), KEEP));
      for (const l of lines) await a.hold(p, l, 10, 60_000);
      assert.equal(await b.release(p, lines[1]!.id), true);
      assert.equal(await b.release(p, lines[1]!.id), false, 'released already');
      assert.equal(await b.release(p, '1-0'), false, 'never held');
      assert.equal(await b.release(uniq('player'), lines[0]!.id), false, "another player's");
      assert.deepEqual(await a.takeHeld(p), [lines[0], lines[2]]);
      await assert.rejects(a.release(p, 'not an id'), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'OPT_ERR_INVALID');
    }));

  test(`${name}: a held line is kept for its own ttl`, () =>
    withBackends(fixture, 1, async (b) => {
      const p = uniq('player');
      const c = `p:${p}`;
      const short = await b.append(said(c, 'short'), KEEP);
      const long = await b.append(said(c, 'long'), KEEP);
      await b.hold(p, short, 10, 1000);
      await b.hold(p, long, 10, 60_000);
      const held = await backendNow(b);
      await untilBackendTime(b, held + 1001);
      assert.deepEqual(await b.takeHeld(p), [long], 'the short-lived line expired; the long-lived one did not go with it');
    }));

  test(`${name}: two gateways taking the same player's held lines at once get each line once in all`, () =>
    withBackends(fixture, 2, async (a, b) => {
      const p = uniq('player');
      const lines: ChatLine[] = [];
      for (let i = 0; i < 40; i++) lines.push(await a.append(said(`p:${p}`, `m${i}`), KEEP));
      for (let round = 0; round < 3; round++) {
        await Promise.all(lines.map((l) => a.hold(p, l, 1000, 60_000)));
        const takes = await Promise.all([a.takeHeld(p), b.takeHeld(p), a.takeHeld(p), b.takeHeld(p)]);
        const all = takes.flat().sort((x, y) => compareIds(x.id, y.id));
        assert.deepEqual(all, lines, `round ${round}: ${takes.map((t) => t.length).join('+')} lines`);
        for (const t of takes) assert.ok(t.length === 0 || t.length === lines.length, 'a take is whole: all or none');
      }
    }));

  test(`${name}: mute until a time; a past time unmutes; the mute ends by itself`, () =>
    withBackends(fixture, 2, async (a, b) => {
      const p = uniq('player');
      assert.equal(await a.mutedUntil(p), 0);
      const now = await backendNow(a);
      await a.mute(p, now + 60_000);
      assert.equal(await b.mutedUntil(p), now + 60_000, 'every gateway sees it');
      await b.mute(p, now + 30_000);
      assert.equal(await a.mutedUntil(p), now + 30_000, 'the last mute wins, shorter too');
      await a.mute(p, now - 1);
      assert.equal(await a.mutedUntil(p), 0, 'a past time unmutes');
      await a.mute(p, now + 60_000);
      await a.mute(p, 0);
      assert.equal(await b.mutedUntil(p), 0);
      await a.mute(p, 0);
      assert.equal(await b.mutedUntil(p), 0, 'unmuting an unmuted player');
      const q = uniq('player');
      const until = (await backendNow(a)) + 1000;
      await a.mute(q, until);
      assert.equal(await a.mutedUntil(q), until);
      await waitFor(async () => (await b.mutedUntil(q)) === 0, { message: 'the mute to end' });
    }));

  test(`${name}: block, unblock, blocked (sorted) and blocks`, () =>
    withBackends(fixture, 2, async (a, b) => {
      const p = uniq('player');
      assert.deepEqual(await a.blocked(p), []);
      assert.equal(await a.block(p, 'zed'), true);
      assert.equal(await b.block(p, 'zed'), false, 'already blocked');
      assert.equal(await a.block(p, 'amy'), true);
      assert.equal(await a.block(p, 'Émile'), true);
      assert.deepEqual(await b.blocked(p), ['Émile', 'amy', 'zed'].sort());
      assert.equal(await b.blocks(p, 'zed'), true);
      assert.equal(await b.blocks('zed', p), false, 'blocking is one way');
      assert.equal(await b.blocks(p, 'bob'), false);
      assert.equal(await a.unblock(p, 'zed'), true);
      assert.equal(await b.unblock(p, 'zed'), false, 'no longer blocked');
      assert.equal(await a.blocks(p, 'zed'), false);
      assert.deepEqual(await a.blocked(p), ['Émile', 'amy'].sort());
      assert.equal(await a.unblock(p, 'amy'), true);
      assert.equal(await a.unblock(p, 'Émile'), true);
      assert.deepEqual(await b.blocked(p), []);
    }));

  test(`${name}: a player blocks at most ${MAX_BLOCKED}, also when two gateways add the last at once`, () =>
    withBackends(fixture, 2, async (a, b) => {
      const p = uniq('player');
      await Promise.all(Array.from({ length: MAX_BLOCKED - 1 }, (_, i) => a.block(p, `o${i}`)));
      const last = await Promise.allSettled([a.block(p, 'x1'), b.block(p, 'x2')]);
      assert.equal(last.filter((r) => r.status === 'fulfilled' && r.value).length, 1, 'one of the two fits');
      const refused = last.find((r) => r.status === 'rejected');
      assert.ok(refused !== undefined && coded(ErrorCodes.OPT_ERR_INVALID)(refused.reason));
      assert.equal((await b.blocked(p)).length, MAX_BLOCKED);
      await assert.rejects(a.block(p, 'one-more'), coded(ErrorCodes.OPT_ERR_INVALID));
      assert.equal(await a.block(p, 'o7'), false, 'blocking one blocked already is no error when full');
      assert.equal(await a.blocks(p, 'one-more'), false);
      assert.equal(await b.unblock(p, 'o0'), true);
      assert.equal(await a.block(p, 'one-more'), true, 'room again');
    }));

  test(`${name}: start and close are idempotent; a closed backend refuses with CHAT_ERR_BACKEND`, async () => {
    const b = await fixture.make();
    await b.start();
    await b.start();
    const c = uniq();
    await b.append(said(c, 'hi'), KEEP);
    await Promise.all([b.close(), b.close()]);
    await b.close();
    const closed = coded(ErrorCodes.CHAT_ERR_BACKEND);
    await assert.rejects(b.start(), closed);
    await assert.rejects(b.append(said(c, 'hi'), KEEP), closed);
    await assert.rejects(b.history(c, 1), closed);
    await assert.rejects(b.hold('p', { ...said(c, 'x'), id: '1-0', at: 1 }, 1, 1000), closed);
    await assert.rejects(b.takeHeld('p'), closed);
    await assert.rejects(b.mute('p', 0), closed);
    await assert.rejects(b.mutedUntil('p'), closed);
    await assert.rejects(b.block('p', 'q'), closed);
    await assert.rejects(b.unblock('p', 'q'), closed);
    await assert.rejects(b.blocked('p'), closed);
    await assert.rejects(b.blocks('p', 'q'), closed);
    await assert.rejects(b.publish(c, new Uint8Array(1)), closed);
    await assert.rejects(b.subscribe(() => {}), closed);
  });

  runArgumentContract(name, fixture);
  runFanoutContract(name, fixture);
}
