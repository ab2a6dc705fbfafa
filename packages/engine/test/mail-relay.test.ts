/**
 * The main thread's part of a mail claim, on a real SQLite store and persister: a mail is held
 * for one claim at a time (MAIL_ERR_CLAIMING for the next, from any scene), released when the
 * scene gives up, and a claim that cannot reach the persister (data that is not JSON) is refused
 * there too, so the player's copy holding the grant is never saved.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCodes, isCodedError, silentLogger } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { MailRelay } from '../src/mail-relay.js';
import { Persister } from '../src/persister.js';

const coded = (code: string) => (err: unknown) => isCodedError(err) && err.code === code;

test('a mail is held for one claim at a time, released by the scene, and a claim the persister never got refuses the player', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gos-mail-relay-'));
  const store = new SqliteStore({ file: join(dir, 'm.db') });
  await store.start();
  const refused: string[] = [];
  const persister = new Persister(store, { batchWindowMs: 10, logger: silentLogger, onClaimRefused: (id, error) => refused.push(`${id}:${error.code}`) });
  const pushed: Uint8Array[] = [];
  const relay = new MailRelay({ store: store.mail, persister, pushes: { notify: () => undefined }, pushToAll: (frame) => pushed.push(frame), engineId: 'e', pollMs: 60_000, logger: silentLogger });
  try {
    const { fence } = await store.claimPlayer('ann');
    persister.seed('player', 'ann', 0, fence);
    const id = await relay.send({ players: ['ann'] }, { subject: 'coins', attachments: { gold: 5 } });
    const op = (o: 'reserve' | 'release' | 'claim', ...args: unknown[]): Promise<unknown> => relay.run({ op: o, args }, 'arena:1');

    assert.equal(((await op('reserve', 'ann', id)) as { mailId: number }).mailId, id);
    await assert.rejects(op('reserve', 'ann', id), coded(ErrorCodes.MAIL_ERR_CLAIMING), 'held for the first claim');
    assert.equal(await op('release', 'ann', id), true);
    await op('reserve', 'ann', id);
    assert.equal(((await op('claim', 'ann', id, JSON.stringify({ gold: 5 }))) as { claimedAt: number }).claimedAt > 0, true);
    assert.deepEqual((await store.loadPlayer('ann'))?.data, { gold: 5 });
    await assert.rejects(op('reserve', 'ann', id), coded(ErrorCodes.MAIL_ERR_NOT_CLAIMABLE), 'claimed');
    await assert.rejects(op('reserve', 'ann', 999_999), coded(ErrorCodes.MAIL_ERR_NOT_FOUND));
    await assert.rejects(op('reserve', "ann'; --", id), coded(ErrorCodes.MAIL_ERR_NOT_FOUND));
    await assert.rejects(op('reserve', 'ann', -1), coded(ErrorCodes.OPT_ERR_INVALID));

    // A claim whose data cannot be read never reaches the persister: the player is refused there.
    const second = await relay.send({ players: ['ann'] }, { subject: 'more', attachments: { gold: 1 } });
    await op('reserve', 'ann', second);
    await assert.rejects(op('claim', 'ann', second, '{not json'), coded(ErrorCodes.OPT_ERR_INVALID));
    assert.deepEqual(refused, [`ann:${ErrorCodes.OPT_ERR_INVALID}`]);
    persister.enqueue('player', 'ann', { gold: 6 }, 'arena:1');
    await persister.flush();
    assert.deepEqual((await store.loadPlayer('ann'))?.data, { gold: 5 }, 'the copy that holds the grant is not saved');
    assert.equal((await store.mail.get('ann', second))?.claimedAt, null);
    // Released with the failed claim: a reloaded player may claim it.
    const again = await store.claimPlayer('ann');
    persister.seed('player', 'ann', again.record?.version ?? 0, again.fence);
    await op('reserve', 'ann', second);

    // Mail to everyone is pushed to this engine's scenes at once.
    await relay.send({ everyone: true }, { subject: 'to all' });
    assert.equal(pushed.length, 1);
  } finally {
    await persister.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
