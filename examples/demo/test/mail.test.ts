/**
 * The demo's mail (docs/mail.md) over real sockets on the embedded cluster: a new player finds a
 * welcome mail with coins, claims them once (saved with its data), deletes it; mail to everyone
 * sent straight to the store reaches it as the core push MailArrived (the engine's poll) and is
 * claimed too; the coins are there after it logs in again, and no second welcome mail comes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isCodedError } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { joinAs, startCluster, tempDir, uniqueName } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir();
});
after(async () => {
  await dir.remove();
});

test('embedded: the welcome mail is claimed once, a mail to everyone is pushed and claimed, the coins stay', async () => {
  const cluster = await startCluster(join(dir.path, 'mail.db'));
  try {
    const name = uniqueName('mail');
    const a = await joinAs(cluster.url, name);
    const welcome = await waitFor(async () => (await a.api.mailList({ before: 0 })).mails.find((m) => m.subject === 'Welcome!'), { message: 'the welcome mail' });
    assert.equal(welcome.coins, 100);
    assert.equal(welcome.claimed, false);
    assert.deepEqual(await a.api.mailClaim({ mailId: welcome.mailId }), { coins: 100 });
    await assert.rejects(a.api.mailClaim({ mailId: welcome.mailId }), (err: unknown) => isCodedError(err) && err.code === 'MAIL_ERR_NOT_CLAIMABLE');
    const listed = await a.api.mailList({ before: 0 });
    assert.equal(listed.coins, 100);
    assert.equal(listed.unread, 0, 'listing marks read');
    assert.equal(listed.mails.find((m) => m.mailId === welcome.mailId)?.claimed, true);
    assert.deepEqual(await a.api.mailDelete({ mailId: welcome.mailId }), { deleted: true });
    assert.deepEqual(await a.api.mailDelete({ mailId: welcome.mailId }), { deleted: false });
    await assert.rejects(a.api.mailClaim({ mailId: 123456789 }), (err: unknown) => isCodedError(err) && err.code === 'MAIL_ERR_NOT_FOUND');

    // Mail to everyone, written by an operator's tool straight into the store: the engine's poll tells the players online.
    const arrived: Array<{ mailId: number; subject: string; attachments: boolean }> = [];
    a.client.onPush('MailArrived', (m) => arrived.push(m));
    const id = await cluster.store.mail.send({ everyone: true }, { from: 'GM', subject: 'Server moved', body: 'sorry', attachments: JSON.stringify({ coins: 5 }), expiresAt: null }, Date.now());
    await waitFor(() => arrived.find((m) => m.mailId === id), { message: 'MailArrived for the mail to everyone' });
    assert.deepEqual(arrived.find((m) => m.mailId === id), { mailId: id, from: 'GM', subject: 'Server moved', attachments: true });
    assert.deepEqual(await a.api.mailClaim({ mailId: id }), { coins: 105 });
    await a.client.close();
    // Saved as it left: the coins and that its welcome mail went.
    const saved = await waitFor(async () => {
      const data = (await cluster.store.loadPlayer(a.accountId))?.data as { coins?: number; welcomeMailed?: boolean } | undefined;
      return data?.coins === 105 ? data : undefined;
    }, { message: 'the player saved with its coins' });
    assert.equal(saved.welcomeMailed, true);

    const again = await joinAs(cluster.url, name, undefined, false);
    try {
      const box = await again.api.mailList({ before: 0 });
      assert.equal(box.coins, 105);
      assert.deepEqual(
        box.mails.map((m) => [m.subject, m.claimed]),
        [['Server moved', true]],
        'the deleted welcome mail stays deleted, and none is sent again',
      );
    } finally {
      await again.client.close();
    }
  } finally {
    await cluster.close();
  }
});
