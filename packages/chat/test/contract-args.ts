import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@gos/schema';
import { MAX_FRAME_BYTES, type ChatLine, type ChatRetention, type NewChatLine } from '../src/index.js';
import { coded, KEEP, said, texts, uniq, withBackends, type ChatFixture } from './helpers.js';

/** Arguments of the wrong type, passed on purpose. */
const bad = <T>(value: unknown): T => value as T;

const EMOJI = '😀';
/** Strings that would do harm if they reached Redis's protocol, a Lua script or a SQL string unescaped. */
const ODD = ['*', '$', '$-1', '\r\n*1\r\n$8\r\nFLUSHALL\r\n', "' or 1=1 --", '"]]) redis.call(\'FLUSHALL\') --[[', '%s%d%n', '{tag}', '0-0', '+', '-', '(1-1', 'a\u0000b', 'ch:x', `${EMOJI} чат`, '\\'];
/** Odd strings that are valid channel names (no whitespace, no control characters). */
const ODD_CHANNELS = ['*', '$', '$-1', "'or'1'='1'--", '"]])redis.call(\'FLUSHALL\')--[[', '%s%d', '{tag}', '0-0', '+', '-', '(1-1', 'held:x', 'fanout', `group:чат${EMOJI}`, '\\', 'ch:'];

export function runArgumentContract(name: string, fixture: ChatFixture): void {
  test(`${name}: every malformed argument is refused with OPT_ERR_INVALID`, () =>
    withBackends(fixture, 1, async (b) => {
      const invalid = coded(ErrorCodes.OPT_ERR_INVALID);
      const c = uniq();
      const line: ChatLine = await b.append(said(c, 'fine'), KEEP);
      const channels = ['', 'x'.repeat(301), 'a b', 'a\tb', 'a\nb', 'a\u0000b', 'a\u007fb', 'a\u00a0b', 'a\u2028b', 'a\u3000b', '\uD800', 'a\uDC00b', 5, null, undefined, {}];
      const players = ['', 'x'.repeat(256), '\uD800x', 7, null, undefined, ['p']];
      const names = ['x'.repeat(65), EMOJI.repeat(65), 'a\uDFFF', 1, null, undefined];
      const textsBad = ['', 'x'.repeat(1001), EMOJI.repeat(1001), '\uD83D', 3, null, undefined];
      const ids = ['', '1', '1-', '-1', '1-2-3', 'a-1', '1.5-0', ' 1-0', '1-0 ', '-1-0', '99999999999999999-0', '1-99999999999999999', `${2 ** 53}-0`, 1, null];
      const counts = [0, 1.5, -1, NaN, Infinity, '3', null];

      for (const ch of channels) {
        await assert.rejects(b.append(said(bad(ch), 'x'), KEEP), invalid, `append channel ${String(ch)}`);
        await assert.rejects(b.history(bad(ch), 10), invalid, `history channel ${String(ch)}`);
        await assert.rejects(b.publish(bad(ch), new Uint8Array(1)), invalid, `publish channel ${String(ch)}`);
        await assert.rejects(b.hold('p', { ...line, channel: bad(ch) }, 10, 1000), invalid, `hold channel ${String(ch)}`);
      }
      for (const p of players) {
        await assert.rejects(b.append({ channel: c, from: bad(p), name: 'n', text: 'x' }, KEEP), invalid, `append from ${String(p)}`);
        await assert.rejects(b.hold(bad(p), line, 10, 1000), invalid, `hold ${String(p)}`);
        await assert.rejects(b.hold('p', { ...line, from: bad(p) }, 10, 1000), invalid);
        await assert.rejects(b.takeHeld(bad(p)), invalid);
        await assert.rejects(b.mute(bad(p), 0), invalid);
        await assert.rejects(b.mutedUntil(bad(p)), invalid);
        await assert.rejects(b.block(bad(p), 'q'), invalid);
        await assert.rejects(b.block('q', bad(p)), invalid);
        await assert.rejects(b.unblock(bad(p), 'q'), invalid);
        await assert.rejects(b.unblock('q', bad(p)), invalid);
        await assert.rejects(b.blocked(bad(p)), invalid);
        await assert.rejects(b.blocks(bad(p), 'q'), invalid);
        await assert.rejects(b.blocks('q', bad(p)), invalid);
      }
      for (const n of names) await assert.rejects(b.append({ channel: c, from: 'p', name: bad(n), text: 'x' }, KEEP), invalid, `name ${String(n)}`);
      for (const t of textsBad) await assert.rejects(b.append(said(c, bad(t)), KEEP), invalid, `text ${String(t)}`);
      for (const l of [null, undefined, 'line', [], 5]) {
        await assert.rejects(b.append(bad<NewChatLine>(l), KEEP), invalid);
        await assert.rejects(b.hold('p', bad<ChatLine>(l), 10, 1000), invalid);
      }
      const retentions: unknown[] = [null, {}, { maxLines: 10 }, { maxAgeMs: 1000 }, ...counts.map((n) => ({ maxLines: n, maxAgeMs: 1000 })), { maxLines: 100_001, maxAgeMs: 1000 }, { maxLines: 1, maxAgeMs: 999 }, { maxLines: 1, maxAgeMs: 2 ** 53 }, { maxLines: 1, maxAgeMs: '1000' }];
      for (const r of retentions) await assert.rejects(b.append(said(c, 'x'), bad<ChatRetention>(r)), invalid, `retention ${JSON.stringify(r)}`);
      for (const n of [...counts, 101]) await assert.rejects(b.history(c, bad(n)), invalid, `limit ${String(n)}`);
      for (const id of ids) {
        await assert.rejects(b.history(c, 10, bad(id)), invalid, `before ${String(id)}`);
        await assert.rejects(b.hold('p', { ...line, id: bad(id) }, 10, 1000), invalid, `held id ${String(id)}`);
      }
      for (const at of [-1, 1.5, NaN, 2 ** 53, '1', null]) await assert.rejects(b.hold('p', { ...line, at: bad(at) }, 10, 1000), invalid, `at ${String(at)}`);
      for (const { max, ttl } of [...counts.map((n) => ({ max: n, ttl: 1000 })), { max: 1001, ttl: 1000 }, { max: 1, ttl: 999 }, { max: 1, ttl: 2 ** 53 }, { max: 1, ttl: '1000' }]) {
        await assert.rejects(b.hold('p', line, bad(max), bad(ttl)), invalid, `hold max ${String(max)} ttl ${String(ttl)}`);
      }
      for (const until of [-1, 1.5, NaN, Infinity, 2 ** 53, '0', null]) await assert.rejects(b.mute('p', bad(until)), invalid, `until ${String(until)}`);
      for (const op of ['block', 'unblock', 'blocks'] as const) await assert.rejects(b[op]('same', 'same'), invalid, `${op} oneself`);
      for (const frame of [null, 'bytes', [1, 2], new ArrayBuffer(4), new Uint16Array(2), new Uint8Array(MAX_FRAME_BYTES + 1)]) {
        await assert.rejects(b.publish(c, bad(frame)), invalid, `frame ${Object.prototype.toString.call(frame)}`);
      }
      for (const fn of [null, 'fn', {}]) await assert.rejects(b.subscribe(bad(fn)), invalid);
      assert.deepEqual(await b.history(c, 10), [line], 'nothing refused was written');
      assert.deepEqual(await b.takeHeld('p'), []);
      assert.equal(await b.mutedUntil('p'), 0);
    }));

  test(`${name}: the longest valid arguments pass; strings that look like injections are kept verbatim`, () =>
    withBackends(fixture, 2, async (a, b) => {
      const longest: NewChatLine = { channel: `g:${EMOJI.repeat(298)}`, from: EMOJI.repeat(255), name: EMOJI.repeat(64), text: EMOJI.repeat(1000) };
      const kept = await a.append(longest, KEEP);
      assert.deepEqual(await b.history(longest.channel, 1), [kept]);
      await a.hold(longest.from, kept, 1000, 60_000);
      assert.deepEqual(await b.takeHeld(longest.from), [kept]);

      const c = uniq();
      const lines: ChatLine[] = [];
      for (const s of ODD) lines.push(await a.append({ channel: c, from: s, name: s, text: s }, KEEP));
      assert.deepEqual(await b.history(c, 100), lines);
      assert.deepEqual(texts(lines), ODD);
      for (const ch of ODD_CHANNELS) {
        const l = await a.append(said(ch, `on ${ch}`, ch, ch), KEEP);
        assert.deepEqual((await b.history(ch, 100)).at(-1), l, `channel ${ch}`);
      }
      for (const [i, s] of ODD.entries()) {
        const other = ODD[(i + 1) % ODD.length]!;
        await a.hold(s, lines[i]!, 10, 60_000);
        await a.mute(s, Date.now() + 60_000 + i);
        assert.equal(await a.block(s, other), true);
      }
      for (const [i, s] of ODD.entries()) {
        const other = ODD[(i + 1) % ODD.length]!;
        assert.deepEqual(await b.takeHeld(s), [lines[i]], `held for ${JSON.stringify(s)}`);
        assert.ok((await b.mutedUntil(s)) > 0, `muted ${JSON.stringify(s)}`);
        assert.deepEqual(await b.blocked(s), [other]);
        assert.equal(await b.blocks(s, other), true);
        assert.equal(await b.unblock(s, other), true);
        await b.mute(s, 0);
      }
    }));
}
