/**
 * `scene.mail` on real worker threads: sending (the core MailArrived push to recipients online),
 * listing, reading, deleting, and claiming attachments exactly once through the scene type's
 * onMailClaim, saved with the player's data in one transaction. Two engines on one MariaDB claim
 * the same attachment for the same player at once (two sockets): it is granted once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CORE_PUSH, CloseCode, ErrorCodes, FrameKind, MailArrivedCodec, framePayload, readFrameHeader } from '@gos/schema';
import { EngineToGateway, decodeBroadcastBody, decodeKickBody } from '@gos/link';
import mysql from 'mysql2/promise';
import { MysqlStore } from '@gos/store';
import { Engine } from '../src/index.js';
import { FakeGateway, GAME, SECRET, decodeAnswer, startCluster, type Received } from './helpers.js';

type Outcome = { ok: true; result: unknown; gold: number } | { ok: false; code: string; gold: number };

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gos-engine-mail-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const isMailArrived = (connId: number) => (m: Received) => {
  if (m.type !== EngineToGateway.TO_CLIENT || m.channel !== connId) return false;
  const h = readFrameHeader(m.body);
  return h !== null && h.kind === FrameKind.PUSH && h.opcode === CORE_PUSH.MailArrived;
};

/** A MailArrived pushed to every player of a scene (mail to everyone): one BROADCAST to the scene's topic; its frame. */
const mailArrivedIn = (sceneId: string) => (m: Received) => {
  if (m.type !== EngineToGateway.BROADCAST) return false;
  const b = decodeBroadcastBody(m.body);
  const h = readFrameHeader(b.frame);
  return b.topic === `s/${sceneId}` && h !== null && h.kind === FrameKind.PUSH && h.opcode === CORE_PUSH.MailArrived;
};

test('mail: send pushes MailArrived, claim grants once with the player data, a refusing hook changes nothing', async () => {
  const c = await startCluster(dir, 'mail', { workers: 1 });
  const mail = async (connId: number, op: string, ...args: unknown[]): Promise<Outcome> => (await c.gw.request(connId, 'mail', { op, args })).body as Outcome;
  try {
    await c.gw.join(1, 'ann');
    await c.gw.join(2, 'bob');

    const sent = await mail(2, 'send', { players: ['ann'] }, { from: 'GM', subject: "Sorry'; DROP TABLE mail; --", body: 'for the outage', attachments: { gold: 50 } });
    assert.equal(sent.ok, true, JSON.stringify(sent));
    const id = sent.ok ? (sent.result as number) : 0;
    // Ann is online: the core push tells her.
    const push = await c.gw.waitFor(isMailArrived(1));
    assert.deepEqual({ ...MailArrivedCodec.decode(framePayload(push.body)) }, { mailId: id, from: 'GM', subject: "Sorry'; DROP TABLE mail; --", attachments: true });

    const listed = await mail(1, 'list', 'ann');
    assert.ok(listed.ok);
    assert.equal((listed.result as unknown[]).length, 1);
    assert.deepEqual((listed.result as Array<Record<string, unknown>>)[0], {
      ...(listed.result as Array<Record<string, unknown>>)[0],
      mailId: id,
      from: 'GM',
      subject: "Sorry'; DROP TABLE mail; --",
      attachments: { gold: 50 },
      readAt: null,
      claimedAt: null,
      broadcast: false,
    });
    assert.deepEqual(await mail(1, 'counts', 'ann'), { ok: true, result: { total: 1, unread: 1 }, gold: 0 });

    // Claimed once: the grant and the claim are saved together.
    const claimed = await mail(1, 'claim', id);
    assert.equal(claimed.ok, true, JSON.stringify(claimed));
    assert.equal(claimed.gold, 50);
    assert.equal(((await c.store.loadPlayer('ann'))?.data as { gold?: number }).gold, 50, 'the data with the grant is saved by the time the claim resolves');
    assert.notEqual((await c.store.mail.get('ann', id))?.claimedAt, null);
    assert.deepEqual(await mail(1, 'claim', id), { ok: false, code: ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, gold: 50 });

    // Two claims of one mail at once from one socket: one grants.
    const twice = await mail(2, 'send', { players: ['ann'] }, { subject: 'twice', attachments: { gold: 1 } });
    const both = await Promise.all([mail(1, 'claim', twice.ok ? twice.result : 0), mail(1, 'claim', twice.ok ? twice.result : 0)]);
    assert.equal(both.filter((o) => o.ok).length, 1, JSON.stringify(both));
    assert.ok(both.some((o) => !o.ok && (o.code === ErrorCodes.MAIL_ERR_CLAIMING || o.code === ErrorCodes.MAIL_ERR_NOT_CLAIMABLE)));

    // A hook that refuses after changing the data: nothing claimed, the change undone.
    const refused = await mail(2, 'send', { players: ['ann'] }, { subject: 'too much', attachments: { gold: 5, refuse: true } });
    const refusedId = refused.ok ? (refused.result as number) : 0;
    assert.deepEqual(await mail(1, 'claim', refusedId), { ok: false, code: ErrorCodes.OPT_ERR_INVALID, gold: 51 });
    assert.equal((await c.store.mail.get('ann', refusedId))?.claimedAt, null);

    // Not claimable: no attachments, someone else's, unknown.
    const plain = await mail(2, 'send', { players: ['ann'] }, { subject: 'hello' });
    assert.deepEqual(await mail(1, 'claim', plain.ok ? plain.result : 0), { ok: false, code: ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, gold: 51 });
    const bobs = await mail(1, 'send', { players: ['bob'] }, { subject: 'for bob', attachments: { gold: 9 } });
    assert.deepEqual(await mail(1, 'claim', bobs.ok ? bobs.result : 0), { ok: false, code: ErrorCodes.MAIL_ERR_NOT_FOUND, gold: 51 });
    assert.deepEqual(await mail(1, 'claim', 987654321), { ok: false, code: ErrorCodes.MAIL_ERR_NOT_FOUND, gold: 51 });
    // An expired one.
    const old = await mail(2, 'send', { players: ['ann'] }, { subject: 'old', attachments: { gold: 3 }, expiresAt: Date.now() - 1 });
    assert.deepEqual(await mail(1, 'claim', old.ok ? old.result : 0), { ok: false, code: ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, gold: 51 });

    // To everyone: stored once, each player claims its own.
    const all = await mail(1, 'send', { everyone: true }, { subject: 'gift', attachments: { gold: 7 } });
    const allId = all.ok ? (all.result as number) : 0;
    // Both are in arena:1: one push to the scene's topic.
    await c.gw.waitFor(mailArrivedIn('arena:1'));
    assert.equal((await mail(1, 'claim', allId)).gold, 58);
    assert.equal((await mail(2, 'claim', allId)).gold, 7);
    assert.equal((await mail(2, 'claim', allId)).ok, false);

    // Read, delete.
    const unread = await mail(1, 'counts', 'ann');
    assert.ok(unread.ok);
    assert.deepEqual(await mail(1, 'read', 'ann', [id, allId]), { ok: true, result: 2, gold: 58 });
    assert.deepEqual(await mail(1, 'counts', 'ann'), { ok: true, result: { ...(unread.result as object), unread: (unread.result as { unread: number }).unread - 2 }, gold: 58 });
    assert.deepEqual(await mail(1, 'delete', 'ann', [id]), { ok: true, result: 1, gold: 58 });
    assert.deepEqual(await mail(1, 'get', 'ann', id), { ok: true, result: null, gold: 58 });
    assert.deepEqual(await mail(1, 'claim', id), { ok: false, code: ErrorCodes.MAIL_ERR_NOT_FOUND, gold: 58 });

    // Bad arguments are coded errors.
    assert.deepEqual(await mail(1, 'send', { players: [] }, { subject: 'x' }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID, gold: 58 });
    assert.deepEqual(await mail(1, 'send', { players: ['ann'] }, { subject: '' }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID, gold: 58 });
    assert.deepEqual(await mail(1, 'send', { players: ['ann'] }, { subject: 'x', attachments: 'y'.repeat(20_000) }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID, gold: 58 });
    assert.deepEqual(await mail(1, 'list', 'ann', { limit: 1000 }), { ok: false, code: ErrorCodes.OPT_ERR_INVALID, gold: 58 });
    assert.deepEqual(await mail(1, 'read', 'ann', ['1; DELETE FROM mail']), { ok: false, code: ErrorCodes.OPT_ERR_INVALID, gold: 58 });

    // What was granted stays after the player leaves and comes back.
    c.gw.leave(1);
    await c.gw.join(3, 'ann');
    assert.equal((await mail(3, 'counts', 'ann')).gold, 58);
  } finally {
    await c.close();
  }
});

const mysqlUrl = process.env['GOS_TEST_MYSQL_URL'];

/** A database of its own on the test server (mail to everyone is seen by every player of a database): its URL, and drop(). */
async function scratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = new URL(mysqlUrl!);
  server.pathname = '/';
  const name = `gos_test_mail_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const conn = await mysql.createConnection(server.toString());
    try {
      await conn.query(sql);
    } finally {
      await conn.end();
    }
  };
  await admin(`CREATE DATABASE \`${name}\``);
  const url = new URL(mysqlUrl!);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS \`${name}\``) };
}

test('mail: two engines claim the same attachment for one player at once (two sockets): granted once; mail to everyone reaches the other engine\'s players', { skip: mysqlUrl === undefined ? 'GOS_TEST_MYSQL_URL is not set' : false }, async () => {
  const db = await scratchDatabase();
  const store = new MysqlStore({ url: db.url, autoMigrate: true, poolSize: 8 });
  const c = await startCluster(dir, 'mail-two', { workers: 1, store });
  const other = new Engine({ engineId: 'engine-u', clusterSecret: SECRET, gameModule: GAME, store, coordinator: c.coordinator, workers: 1, persistIntervalMs: 200, workerLogLevel: 'silent', mailPollMs: 100 });
  await other.start();
  const gw2 = new FakeGateway(Number(other.address.split(':')[1]), 'gw-2');
  await gw2.start();
  try {
    await c.coordinator.placement.assign('arena:9', 'engine-u');
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      const player = `claimant-${randomBytes(4).toString('hex')}`;
      const id = await store.mail.send({ players: [player] }, { from: 'system', subject: `round ${round}`, body: '', attachments: JSON.stringify({ gold: 100 }), expiresAt: null }, Date.now());
      // One socket on each engine: the second login claims the row, fencing the first engine off.
      await c.gw.join(10 + round, player, 'arena:1');
      await gw2.join(10 + round, player, 'arena:9');
      // The first engine either answers (refused) or, once its write with the claim is refused
      // as fenced, lets the player go: its copy held a grant that was never saved (4013).
      const conn = 10 + round;
      const requestA = c.gw.send(conn, 'mail', { op: 'claim', args: [id] });
      const [answerA, b] = await Promise.all([
        c.gw.waitFor((m) => {
          if (m.channel !== conn) return false;
          if (m.type === EngineToGateway.KICK) return true;
          const h = m.type === EngineToGateway.TO_CLIENT ? readFrameHeader(m.body) : null;
          return h !== null && h.requestId === requestA && h.kind !== FrameKind.PUSH;
        }),
        gw2.request(conn, 'mail', { op: 'claim', args: [id] }).then((r) => r.body as Outcome),
      ]);
      const a: Outcome | 'kicked' = answerA.type === EngineToGateway.KICK ? 'kicked' : (decodeAnswer(answerA.body).body as Outcome);
      if (a === 'kicked') assert.equal(decodeKickBody(answerA.body).closeCode, CloseCode.STATE_RELOAD);
      assert.equal(b.ok, true, `round ${round}: the engine that holds the player's row now is the one that claims: ${JSON.stringify([a, b])}`);
      assert.ok(a === 'kicked' || !a.ok, `round ${round}: exactly one claim succeeds: ${JSON.stringify([a, b])}`);
      assert.equal(((await store.loadPlayer(player))?.data as { gold?: number }).gold, 100, `round ${round}: granted once`);
      assert.notEqual((await store.mail.get(player, id))?.claimedAt, null);
      // Later saves of the engine that holds the player keep the one grant.
      gw2.leave(10 + round);
    }

    // Mail to everyone sent from a scene of one engine: a player on the other engine hears of it (its poll).
    await c.gw.join(50, 'sender', 'arena:1');
    await gw2.join(50, 'listener', 'arena:9');
    const all = (await c.gw.request(50, 'mail', { op: 'send', args: [{ everyone: true }, { subject: 'to all', attachments: { gold: 1 } }] })).body as Outcome;
    assert.equal(all.ok, true, JSON.stringify(all));
    await c.gw.waitFor(mailArrivedIn('arena:1'));
    const heard = await gw2.waitFor(mailArrivedIn('arena:9'));
    assert.equal(MailArrivedCodec.decode(framePayload(decodeBroadcastBody(heard.body).frame)).mailId, all.ok ? all.result : -1);
  } finally {
    await gw2.close();
    await other.close();
    await c.close();
    await db.drop();
  }
});
