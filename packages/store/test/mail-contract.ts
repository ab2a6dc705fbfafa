import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { MailItem, MailStore, NewMail } from '../src/index.js';
import { coded, uniq, withFreshStore, withStore, type StoreFixture } from './contract-helpers.js';

/**
 * 2026-01-01: the send time of most test mail. Mail to everyone is seen by every player of a
 * database, so the tests that send it (and the pruning tests, which count every mail) run on a
 * database of their own ({@link withFreshStore}); the others share one and use unique player ids.
 */
export const T0 = 1_767_225_600_000;
/** Attachments as a game would write them. */
export const GIFT = '{"items":["potion"],"gold":5}';

/** A mail with defaults for what a test does not care about. */
export const mailOf = (over: Partial<NewMail> = {}): NewMail => ({ from: 'system', subject: 'hello', body: 'body', attachments: null, expiresAt: null, ...over });

/** What a player sees of a mail it has not touched. */
export const seen = (mailId: number, mail: NewMail, sentAt: number, broadcast = false): MailItem => ({ mailId, ...mail, sentAt, broadcast, readAt: null, claimedAt: null });

const idsOf = (items: readonly MailItem[]): number[] => items.map((m) => m.mailId);
const bad = coded(ErrorCodes.OPT_ERR_INVALID);

async function listAll(mail: MailStore, playerId: string, now?: number): Promise<number[]> {
  return idsOf(await mail.list({ playerId, limit: 100, ...(now === undefined ? {} : { now }) }));
}

/** The contract of `Store.mail`; run from `runStoreContract` against every store (`SaveEntry.mailClaims`: mail-claims-contract.ts). */
export function runMailContract(name: string, fixture: StoreFixture): void {
  test(`${name}: mail to one player and to a list round-trips verbatim; each recipient has it once, nobody else has it`, () =>
    withStore(fixture, async (store) => {
      const mail = store.mail;
      const p = `mailee-${uniq()}`;
      const [q, r] = [`${p}-q`, `${p}-r`];
      const one = mailOf({
        from: 'Game Master 🎮',
        subject: 'Welcome, é \u2028',
        body: 'line 1\nline 2\t"double" \'single\' \\ \u0000 𝄞',
        attachments: '{ "gold" : 100,\n "items": ["sword", {"id": 7}], "e": 1e3 }',
        expiresAt: Number.MAX_SAFE_INTEGER,
      });
      const a = await mail.send({ players: [p] }, one, T0);
      const many = mailOf({ subject: 'to many', body: '' });
      const b = await mail.send({ players: [q, p, r, q, p] }, many, T0 + 1);
      assert.ok(Number.isSafeInteger(a) && a > 0 && b > a, `ids increase: ${a} then ${b}`);
      assert.deepEqual(await mail.list({ playerId: p, limit: 10 }), [seen(b, many, T0 + 1), seen(a, one, T0)]);
      for (const other of [q, r]) assert.deepEqual(await mail.list({ playerId: other, limit: 10 }), [seen(b, many, T0 + 1)], 'a duplicate recipient gets the mail once');
      assert.deepEqual(await mail.get(p, a), { ...seen(a, one, T0), deletedAt: null });
      assert.deepEqual(await mail.counts(p), { total: 2, unread: 2 });
      assert.equal(await mail.get(q, a), null, 'not its mail');
      assert.equal(await mail.get(p, b + 1_000_000), null, 'no such mail');
      for (const other of [p.toUpperCase(), `${p} `, p.slice(0, -1), `${p}x`]) {
        assert.deepEqual(await mail.list({ playerId: other, limit: 10 }), [], other);
        assert.equal(await mail.get(other, a), null);
        assert.deepEqual(await mail.counts(other), { total: 0, unread: 0 });
      }
    }));

  test(`${name}: mail to everyone is stored once and seen by every player, ones that did not exist when it was sent and later ones too`, () =>
    withFreshStore(fixture, async (store) => {
      const mail = store.mail;
      const direct = await mail.send({ players: ['alice'] }, mailOf({ subject: 'direct' }), T0);
      const toAll = mailOf({ subject: 'to all', attachments: GIFT, expiresAt: Number.MAX_SAFE_INTEGER });
      const all = await mail.send({ everyone: true }, toAll, T0 + 1);
      assert.ok(all > direct);
      assert.deepEqual(await listAll(mail, 'alice'), [all, direct]);
      assert.deepEqual(await mail.counts('alice'), { total: 2, unread: 2 });
      for (const player of [`never-seen-${uniq()}`, 'é 🎮', "'; DROP TABLE mail; --", 'x'.repeat(255)]) {
        assert.deepEqual(await mail.list({ playerId: player, limit: 10 }), [seen(all, toAll, T0 + 1, true)], player);
        assert.deepEqual(await mail.get(player, all), { ...seen(all, toAll, T0 + 1, true), deletedAt: null });
        assert.equal(await mail.get(player, direct), null);
        assert.deepEqual(await mail.counts(player), { total: 1, unread: 1 });
      }
      // A player that appears after the mail was sent has it too.
      await store.createAccount({ username: 'newcomer', passwordHash: 'h' });
      assert.equal(await store.savePlayer('newcomer', { level: 1 }, 0), 1);
      assert.deepEqual(await listAll(mail, 'newcomer'), [all]);
      // One player's marks are its own.
      assert.equal(await mail.markRead('alice', [all], T0 + 5), 1);
      assert.equal(await mail.delete('newcomer', [all], T0 + 6), 1);
      assert.equal((await mail.get('alice', all))?.readAt, T0 + 5);
      assert.deepEqual(await mail.list({ playerId: 'bob', limit: 10 }), [seen(all, toAll, T0 + 1, true)]);
      assert.deepEqual(await listAll(mail, 'newcomer'), []);
      // A later mail to everyone is listed first, for players old and new.
      const later = await mail.send({ everyone: true }, mailOf({ subject: 'later' }), T0 + 10);
      assert.deepEqual(await listAll(mail, 'alice'), [later, all, direct]);
      assert.deepEqual(await listAll(mail, `later-${uniq()}`), [later, all]);
    }));

  test(`${name}: broadcasts lists mail to everyone after a mail id, oldest first, unexpired, up to limit; lastMailId is where a poll starts`, () =>
    withFreshStore(fixture, async (store) => {
      const mail = store.mail;
      assert.equal(await mail.lastMailId(), 0);
      assert.deepEqual(await mail.broadcasts(0, 10), []);
      const a = await mail.send({ everyone: true }, mailOf({ subject: 'a', attachments: GIFT }), T0);
      const direct = await mail.send({ players: ['alice'] }, mailOf({ subject: 'direct' }), T0 + 1);
      const gone = await mail.send({ everyone: true }, mailOf({ subject: 'gone', expiresAt: T0 + 5 }), T0 + 2);
      const c = await mail.send({ everyone: true }, mailOf({ subject: 'c' }), T0 + 3);
      assert.equal(await mail.lastMailId(), c);
      await mail.markRead('alice', [a], T0 + 4);
      assert.deepEqual(await mail.broadcasts(0, 10, T0 + 10), [seen(a, mailOf({ subject: 'a', attachments: GIFT }), T0, true), seen(c, mailOf({ subject: 'c' }), T0 + 3, true)], "no direct mail, no expired one, nobody's marks");
      assert.deepEqual(idsOf(await mail.broadcasts(0, 10, T0)), [a, gone, c]);
      assert.deepEqual(idsOf(await mail.broadcasts(a, 1, T0)), [gone]);
      assert.deepEqual(idsOf(await mail.broadcasts(direct, 10, T0)), [gone, c]);
      assert.deepEqual(await mail.broadcasts(c, 10), []);
      for (const args of [[-1, 10], [0, 0], [0, 1001], [1.5, 10], [0, 10, -1], ['0', 10]] as const) {
        await assert.rejects(mail.broadcasts(...(args as unknown as [number, number, number?])), bad, JSON.stringify(args));
      }
    }));

  test(`${name}: mail is listed newest first across direct mail and mail to everyone, in pages with before, each once; limit bounds a page`, () =>
    withFreshStore(fixture, async (store) => {
      const mail = store.mail;
      const player = 'pager';
      const sent: number[] = [];
      for (let i = 0; i < 25; i++) {
        // Every third to everyone; mail to other players in between.
        sent.push(await mail.send(i % 3 === 0 ? { everyone: true } : { players: ['other', player] }, mailOf({ subject: `m${i}` }), T0 + i));
        if (i % 4 === 0) await mail.send({ players: ['other'] }, mailOf({ subject: 'noise' }), T0 + i);
      }
      const newest = [...sent].reverse();
      const all = await mail.list({ playerId: player, limit: 100 });
      assert.deepEqual(idsOf(all), newest);
      assert.deepEqual(
        all.map((m) => m.subject),
        newest.map((_, k) => `m${24 - k}`),
      );
      const pages: MailItem[][] = [];
      let before: number | undefined;
      for (;;) {
        const page = await mail.list({ playerId: player, limit: 10, ...(before === undefined ? {} : { before }) });
        if (page.length === 0) break;
        pages.push(page);
        before = page[page.length - 1]!.mailId;
      }
      assert.deepEqual(
        pages.map((p) => p.length),
        [10, 10, 5],
      );
      assert.deepEqual(pages.flat(), all);
      assert.deepEqual(idsOf(await mail.list({ playerId: player, limit: 1 })), [sent[24]]);
      assert.deepEqual(idsOf(await mail.list({ playerId: player, limit: 3, before: sent[10] })), [sent[9], sent[8], sent[7]]);
      assert.deepEqual(idsOf(await mail.list({ playerId: player, limit: 100, before: sent[0] })), []);
      assert.deepEqual(await mail.list({ playerId: player, limit: 100, before: 0 }), []);
      assert.deepEqual(idsOf(await mail.list({ playerId: player, limit: 100, before: Number.MAX_SAFE_INTEGER })), newest);
      assert.deepEqual(await mail.counts(player), { total: 25, unread: 25 });
    }));

  test(`${name}: markRead marks the player's unread mail once and says how many changed; unreadOnly and counts follow`, () =>
    withFreshStore(fixture, async (store) => {
      const mail = store.mail;
      const [reader, bystander] = ['reader', 'bystander'];
      const d1 = await mail.send({ players: [reader] }, mailOf(), T0);
      const b1 = await mail.send({ everyone: true }, mailOf(), T0 + 1);
      const d2 = await mail.send({ players: [reader, bystander] }, mailOf(), T0 + 2);
      const theirs = await mail.send({ players: [bystander] }, mailOf(), T0 + 3);
      const b2 = await mail.send({ everyone: true }, mailOf(), T0 + 4);
      assert.deepEqual(await mail.counts(reader), { total: 4, unread: 4 });
      assert.equal(await mail.markRead(reader, [d1, theirs, b1, Number.MAX_SAFE_INTEGER, d1], T0 + 100), 2, 'not its mail, no such mail and a repeat are skipped');
      assert.equal(await mail.markRead(reader, [b1, d1], T0 + 200), 0, 'already read');
      assert.deepEqual(idsOf(await mail.list({ playerId: reader, limit: 100, unreadOnly: true })), [b2, d2]);
      assert.deepEqual(
        (await mail.list({ playerId: reader, limit: 100 })).map((m) => [m.mailId, m.readAt]),
        [
          [b2, null],
          [d2, null],
          [b1, T0 + 100],
          [d1, T0 + 100],
        ],
      );
      assert.deepEqual(idsOf(await mail.list({ playerId: reader, limit: 1, unreadOnly: true, before: b2 })), [d2]);
      assert.deepEqual(await mail.counts(reader), { total: 4, unread: 2 });
      assert.equal((await mail.get(reader, b1))?.readAt, T0 + 100);
      // The bystander's copy of shared mail is untouched.
      assert.equal((await mail.get(bystander, b1))?.readAt, null);
      assert.deepEqual(await mail.counts(bystander), { total: 4, unread: 4 });
      assert.equal((await mail.get(bystander, theirs))?.readAt, null);
      assert.equal(await mail.markRead(reader, [d2, b2], T0 + 300), 2);
      assert.deepEqual(await mail.list({ playerId: reader, limit: 100, unreadOnly: true }), []);
      assert.deepEqual(await mail.counts(reader), { total: 4, unread: 0 });
      assert.equal(await mail.markRead(`stranger-${uniq()}`, [b2, d1], T0), 1, 'mail to everyone is every player’s, direct mail only its recipients’');
    }));

  test(`${name}: mail is listed until its expiresAt has passed (judged at now, by default the clock); get still returns it`, () =>
    withFreshStore(fixture, async (store) => {
      const mail = store.mail;
      const p = 'expiring';
      const now = T0 + 1000;
      const e1 = await mail.send({ players: [p] }, mailOf({ expiresAt: now - 1 }), T0);
      const e2 = await mail.send({ players: [p] }, mailOf({ expiresAt: now }), T0);
      const e3 = await mail.send({ everyone: true }, mailOf({ expiresAt: now - 1 }), T0);
      const e4 = await mail.send({ everyone: true }, mailOf({ expiresAt: now + 1 }), T0);
      const e5 = await mail.send({ players: [p] }, mailOf({ expiresAt: null }), T0);
      assert.deepEqual(await listAll(mail, p, now - 1), [e5, e4, e3, e2, e1]);
      assert.deepEqual(await listAll(mail, p, now), [e5, e4, e2]);
      assert.deepEqual(await listAll(mail, p, now + 1), [e5, e4]);
      assert.deepEqual(await listAll(mail, p, now + 2), [e5]);
      assert.deepEqual(await mail.counts(p, now), { total: 3, unread: 3 });
      assert.deepEqual(await mail.counts(p, now + 2), { total: 1, unread: 1 });
      assert.deepEqual(await mail.get(p, e1), { ...seen(e1, mailOf({ expiresAt: now - 1 }), T0), deletedAt: null });
      assert.equal((await mail.get(p, e3))?.expiresAt, now - 1);
      // Without now, the clock judges: these test mails (2026-01-01) are long expired, these are not.
      const clock = Date.now();
      const gone = await mail.send({ players: [p] }, mailOf({ expiresAt: clock - 60_000 }), clock - 120_000);
      const live = await mail.send({ everyone: true }, mailOf({ expiresAt: clock + 3_600_000 }), clock);
      assert.deepEqual(await listAll(mail, p), [live, e5]);
      assert.deepEqual(await mail.counts(p), { total: 2, unread: 2 });
      assert.equal((await mail.get(p, gone))?.mailId, gone);
    }));

  test(`${name}: delete hides the player's mail (claimed or not) from list and counts, get still shows it with deletedAt; others' mail is skipped`, () =>
    withFreshStore(fixture, async (store) => {
      const mail = store.mail;
      const [p, keeper] = ['deleter', 'keeper'];
      const d1 = await mail.send({ players: [p, keeper] }, mailOf(), T0);
      const d2 = await mail.send({ players: [p] }, mailOf({ attachments: GIFT }), T0 + 1);
      const b1 = await mail.send({ everyone: true }, mailOf(), T0 + 2);
      const theirs = await mail.send({ players: [keeper] }, mailOf(), T0 + 3);
      assert.equal(await mail.delete(p, [d1, b1, theirs, Number.MAX_SAFE_INTEGER], T0 + 5), 2);
      assert.equal(await mail.delete(p, [d1, b1], T0 + 6), 0, 'already deleted');
      assert.deepEqual(await listAll(mail, p), [d2]);
      assert.deepEqual(await mail.counts(p), { total: 1, unread: 1 });
      assert.deepEqual(await mail.get(p, d1), { ...seen(d1, mailOf(), T0), deletedAt: T0 + 5 });
      assert.deepEqual(await mail.get(p, b1), { ...seen(b1, mailOf(), T0 + 2, true), deletedAt: T0 + 5 });
      assert.deepEqual(await listAll(mail, keeper), [theirs, b1, d1], 'the others keep theirs');
      // Claimed mail can be deleted too.
      assert.deepEqual(await store.saveBatch([{ kind: 'player', id: p, data: {}, expectedVersion: 0, mailClaims: [d2] }]), [{ ok: true, version: 1 }]);
      assert.equal(await mail.delete(p, [d2], T0 + 7), 1);
      assert.deepEqual(await listAll(mail, p), []);
      assert.deepEqual(await mail.counts(p), { total: 0, unread: 0 });
      const got = await mail.get(p, d2);
      assert.equal(got?.deletedAt, T0 + 7);
      assert.equal(typeof got?.claimedAt, 'number');
    }));

  test(`${name}: prune removes mail that expired before the given time with every player's marks, at most limit, and says how many went`, () =>
    withFreshStore(fixture, async (store) => {
      const mail = store.mail;
      const [a, b] = ['pruned-a', 'pruned-b'];
      const old1 = await mail.send({ players: [a, b] }, mailOf({ expiresAt: 100 }), 10);
      const old3 = await mail.send({ players: [a] }, mailOf({ expiresAt: 300 }), 10);
      const old2 = await mail.send({ everyone: true }, mailOf({ expiresAt: 200 }), 10);
      const never = await mail.send({ players: [a] }, mailOf({ expiresAt: null }), 10);
      const later = await mail.send({ players: [a] }, mailOf({ expiresAt: T0 }), 10);
      assert.equal(await mail.markRead(a, [old1, old2], 20), 2);
      assert.equal(await mail.delete(a, [later], 30), 1);
      assert.equal(await mail.prune(0, 100), 0, 'nothing expired before 0');
      assert.equal(await mail.prune(100, 100), 0, 'expired at 100 is not before 100');
      assert.equal(await mail.prune(250, 1), 1, 'the earliest first');
      assert.equal(await mail.get(a, old1), null);
      assert.equal(await mail.get(b, old1), null);
      assert.equal((await mail.get(a, old2))?.readAt, 20);
      assert.equal(await mail.prune(1000, 100), 2);
      for (const gone of [old2, old3]) assert.equal(await mail.get(a, gone), null);
      assert.equal(await mail.get(`someone-${uniq()}`, old2), null, 'pruned mail to everyone is gone for everyone');
      assert.equal(await mail.prune(T0, 100), 0);
      // A deleted mark of a mail not expired stays and keeps hiding it.
      assert.equal((await mail.get(a, later))?.deletedAt, 30);
      assert.deepEqual(await listAll(mail, a, 0), [never]);
      assert.equal(await mail.prune(T0 + 1, 100_000), 1);
      assert.equal(await mail.get(a, later), null);
      assert.deepEqual(await listAll(mail, a, 0), [never]);
      // More than one call's worth of chunks: the count is exact, and the limit holds.
      for (let i = 0; i < 250; i++) await mail.send(i % 2 === 0 ? { everyone: true } : { players: [a, b] }, mailOf({ expiresAt: 500 + i }), 10);
      assert.equal(await mail.prune(T0, 240), 240);
      assert.equal((await listAll(mail, b, 0)).length, 10, 'the 10 that expire last are left');
      assert.equal(await mail.prune(T0, 240), 10);
      assert.equal(await mail.prune(T0, 240), 0);
      assert.deepEqual(await listAll(mail, b, 0), []);
      assert.deepEqual(await listAll(mail, a, 0), [never]);
    }));

  test(`${name}: send takes up to 10,000 players and texts at their largest; refused sends write nothing`, () =>
    withStore(fixture, async (store) => {
      const mail = store.mail;
      const tag = uniq();
      const players = Array.from({ length: 10_000 }, (_, i) => `bulk-${tag}-${i}`);
      await assert.rejects(mail.send({ players: [...players, `bulk-${tag}-extra`] }, mailOf(), T0), bad);
      assert.deepEqual(await mail.list({ playerId: players[0]!, limit: 10 }), []);
      const largest = mailOf({ from: '🎮'.repeat(32), subject: 'é'.repeat(199) + 'x', body: '𝄞'.repeat(2000), attachments: JSON.stringify('é'.repeat(8191)) });
      assert.equal(Buffer.byteLength(largest.attachments!), 16_384);
      const id = await mail.send({ players }, largest, T0);
      for (const p of [players[0]!, players[4321]!, players[9999]!]) assert.deepEqual(await mail.list({ playerId: p, limit: 10 }), [seen(id, largest, T0)]);
    }));

  test(`${name}: malformed mail arguments are refused with OPT_ERR_INVALID and change nothing`, () =>
    withStore(fixture, async (store) => {
      const mail = store.mail;
      const p = `malformed-${uniq()}`;
      const ok = mailOf({ attachments: GIFT });
      const badTo: unknown[] = [null, 'p', {}, { players: [] }, { players: p }, { players: [''] }, { players: ['x'.repeat(256)] }, { players: ['\ud800'] }, { players: [7] }, { everyone: false }, { everyone: 'yes' }, { players: [p], everyone: true }];
      for (const to of badTo) await assert.rejects(mail.send(to as never, ok, T0), bad, JSON.stringify(to));
      const badMail: unknown[] = [
        null,
        'mail',
        ...['', 'x'.repeat(65), '\udc00', 5, undefined].map((from) => ({ ...ok, from })),
        ...['', 'x'.repeat(201), '\ud800x', null, undefined].map((subject) => ({ ...ok, subject })),
        ...['x'.repeat(4001), '\ud800', null, undefined].map((body) => ({ ...ok, body })),
        ...['not json', '{"a":', '', JSON.stringify('é'.repeat(8192)), '"\ud800"', 42, {}, undefined].map((attachments) => ({ ...ok, attachments })),
        ...[-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, '5', undefined].map((expiresAt) => ({ ...ok, expiresAt })),
      ];
      for (const m of badMail) await assert.rejects(mail.send({ players: [p] }, m as never, T0), bad, JSON.stringify(m));
      for (const sentAt of [-1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1, '1', null, undefined]) await assert.rejects(mail.send({ players: [p] }, ok, sentAt as never), bad, String(sentAt));
      assert.deepEqual(await mail.list({ playerId: p, limit: 100, now: 0 }), [], 'nothing was sent');

      const id = await mail.send({ players: [p] }, ok, T0);
      const q = { playerId: p, limit: 10 };
      const badQueries: unknown[] = [
        null,
        'query',
        ...['', 'x'.repeat(256), '\ud800', 5, undefined].map((playerId) => ({ ...q, playerId })),
        ...[0, 101, -1, 1.5, NaN, '10', undefined].map((limit) => ({ ...q, limit })),
        ...[-1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1, '5', null].map((before) => ({ ...q, before })),
        ...['yes', 1, null].map((unreadOnly) => ({ ...q, unreadOnly })),
        ...[-1, 1.5, NaN, '5', null].map((now) => ({ ...q, now })),
      ];
      for (const query of badQueries) await assert.rejects(mail.list(query as never), bad, JSON.stringify(query));
      const badPlayers: unknown[] = ['', 'x'.repeat(256), '\ud800', 5, null];
      const badIds: unknown[] = [0, -1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1, '1', null];
      const badTimes: unknown[] = [-1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1, '1', null];
      for (const player of badPlayers) {
        await assert.rejects(mail.get(player as never, id), bad, String(player));
        await assert.rejects(mail.counts(player as never), bad, String(player));
        await assert.rejects(mail.markRead(player as never, [id], T0), bad, String(player));
        await assert.rejects(mail.delete(player as never, [id], T0), bad, String(player));
      }
      for (const mailId of badIds) await assert.rejects(mail.get(p, mailId as never), bad, String(mailId));
      for (const now of badTimes) await assert.rejects(mail.counts(p, now as never), bad, String(now));
      const badLists: unknown[] = [[], Array.from({ length: 101 }, (_, i) => i + 1), 'ids', null, ...badIds.map((x) => [id, x])];
      for (const ids of badLists) {
        await assert.rejects(mail.markRead(p, ids as never, T0), bad, JSON.stringify(ids));
        await assert.rejects(mail.delete(p, ids as never, T0), bad, JSON.stringify(ids));
      }
      for (const at of badTimes) {
        await assert.rejects(mail.markRead(p, [id], at as never), bad, String(at));
        await assert.rejects(mail.delete(p, [id], at as never), bad, String(at));
      }
      for (const before of badTimes) await assert.rejects(mail.prune(before as never, 10), bad, String(before));
      for (const limit of [0, 100_001, -1, 1.5, NaN, '10', null]) await assert.rejects(mail.prune(0, limit as never), bad, String(limit));
      assert.deepEqual(await mail.get(p, id), { ...seen(id, ok, T0), deletedAt: null }, 'refused calls changed nothing');
      assert.equal(await mail.markRead(p, Array.from({ length: 100 }, (_, i) => id + i), T0), 1, '100 ids is the most');
      assert.equal(await mail.prune(0, 100_000), 0, '100,000 is the most');
      await assert.rejects(mail.send({ players: [p] }, { ...ok, subject: 'x'.repeat(201) }, T0), (err: unknown) => {
        bad(err);
        assert.ok(err instanceof CodedError);
        assert.match(err.message, /subject/);
        return true;
      });
    }));

  test(`${name}: SQL metacharacters in from, subject, body, attachments and player ids are data, stored verbatim`, () =>
    withStore(fixture, async (store) => {
      const mail = store.mail;
      const tag = uniq();
      const players = [`'; DROP TABLE mail; -- ${tag}`, `Robert"); DELETE FROM mail_marks;-- ${tag}`, `a\\' OR '1'='1 ${tag}`, `%_\` ${tag}`];
      const m = mailOf({ from: "'); DROP TABLE mail;--", subject: `" OR 1=1; -- %_ \\ ${tag}`, body: "'; UPDATE mail_marks SET claimed_at = NULL; --", attachments: '{"sql":"\'; DROP TABLE players; --"}' });
      const id = await mail.send({ players }, m, T0);
      for (const p of players) {
        assert.deepEqual(await mail.list({ playerId: p, limit: 10 }), [seen(id, m, T0)], p);
        assert.equal(await mail.markRead(p, [id], T0 + 1), 1);
      }
      assert.deepEqual(await mail.list({ playerId: "' OR '1'='1", limit: 10 }), []);
      assert.deepEqual(await mail.list({ playerId: `%_\` %`, limit: 10 }), [], 'no pattern matching');
      assert.deepEqual(await store.saveBatch([{ kind: 'player', id: players[0]!, data: {}, expectedVersion: 0, mailClaims: [id] }]), [{ ok: true, version: 1 }]);
    }));

  test(`${name}: the mailboxes of a closed store are STO_ERR_CONNECTION`, async () => {
    const store = await fixture.make();
    await store.close();
    const down = coded(ErrorCodes.STO_ERR_CONNECTION);
    await assert.rejects(store.mail.send({ players: ['p'] }, mailOf(), T0), down);
    await assert.rejects(store.mail.list({ playerId: 'p', limit: 10 }), down);
    await assert.rejects(store.mail.get('p', 1), down);
    await assert.rejects(store.mail.counts('p'), down);
    await assert.rejects(store.mail.markRead('p', [1], T0), down);
    await assert.rejects(store.mail.delete('p', [1], T0), down);
    await assert.rejects(store.mail.prune(0, 10), down);
  });
}
