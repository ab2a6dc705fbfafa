/**
 * Claims racing on MySQL/MariaDB, interleaved on purpose rather than by luck: a test connection
 * holds a player's row lock (as a save in flight does) while two claiming saves queue behind it,
 * so the second save passes its version check only after the first committed its claim.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';
import mysql from 'mysql2/promise';
import { ErrorCodes } from '@gos/schema';
import { MysqlStore } from '../src/index.js';
import { GIFT, mailOf, T0 } from './mail-contract.js';

/** How long a test waits for saves to reach the lock before it gives up. */
const WAIT_MS = 10_000;

/**
 * Wait until `n` statements of this database are writing the players table: with the row's lock
 * held by `conn`, those are saves waiting for it. (A connection sees its own user's threads in
 * the process list without the PROCESS privilege.)
 */
async function waitForWaiters(conn: mysql.Connection, n: number): Promise<void> {
  const until = Date.now() + WAIT_MS;
  for (;;) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND INFO LIKE 'UPDATE players %'");
    if (Number(rows[0]?.n) >= n) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${n} save(s) to wait on the row lock`);
    await delay(10);
  }
}

/** Run against the database at `freshUrl()` (one nobody else uses; migrated by the store). */
export function runMysqlMailRaces(freshUrl: () => Promise<string>): void {
  for (const kind of ['direct', 'to everyone'] as const) {
    test(`mysql: a claim of mail ${kind} whose save waited for the player's row while another claim of it committed is refused`, async () => {
      const url = await freshUrl();
      const store = new MysqlStore({ url, autoMigrate: true, poolSize: 4 });
      await store.start();
      const holder = await mysql.createConnection({ uri: url });
      try {
        const player = 'contended';
        assert.equal(await store.savePlayer(player, 'v1', 0), 1);
        const mailId = await store.mail.send(kind === 'direct' ? { players: [player] } : { everyone: true }, mailOf({ attachments: GIFT }), T0);
        await holder.beginTransaction();
        await holder.query('SELECT version FROM players WHERE id = ? FOR UPDATE', [player]);
        // The first save expects the row's version; the second the version the first makes. Both
        // wait for the row, in that order, and InnoDB grants it in that order.
        const first = store.saveBatch([{ kind: 'player', id: player, data: 'first', expectedVersion: 1, mailClaims: [mailId] }]);
        await waitForWaiters(holder, 1);
        const second = store.saveBatch([{ kind: 'player', id: player, data: 'second', expectedVersion: 2, mailClaims: [mailId] }]);
        await waitForWaiters(holder, 2);
        await holder.commit();
        const [[a], [b]] = await Promise.all([first, second]);
        assert.deepEqual(a, { ok: true, version: 2 });
        assert.ok(b !== undefined && !b.ok, `the second claim must be refused, got ${JSON.stringify(b)}`);
        assert.equal(b.error.code, ErrorCodes.MAIL_ERR_NOT_CLAIMABLE, b.error.message);
        const row = await store.loadPlayer(player);
        assert.deepEqual([row?.version, row?.data], [2, 'first']);
        assert.equal(typeof (await store.mail.get(player, mailId))?.claimedAt, 'number');
      } finally {
        await holder.end();
        await store.close();
      }
    });
  }
}
