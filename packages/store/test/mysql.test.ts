import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { CodedError, ErrorCodes } from '@gos/schema';
import { MIGRATIONS, MysqlStore, createStore, runMigrations, type StoreConfig } from '../src/index.js';
import { runStoreContract } from './contract.js';
import { runMysqlMailRaces } from './mail-mysql-races.js';

// Each run works in fresh databases named after the configured one, and drops them at the end.
const explicit = process.env.GOS_TEST_MYSQL_URL;
const base = new URL(explicit ?? 'mysql://root@127.0.0.1:3306/gos_test');
const prefix = `${decodeURIComponent(base.pathname.slice(1)) || 'gos_test'}_${process.pid}_${randomBytes(3).toString('hex')}`;
const created: string[] = [];

function urlFor(database: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

const server = urlFor('');
let admin: mysql.Connection | undefined;
let unreachable: string | undefined;
try {
  admin = await mysql.createConnection({ uri: server.replace(/\/$/, ''), connectTimeout: 3000 });
} catch (err) {
  // Only a developer machine without MariaDB skips; a configured URL that fails is a failure.
  if (explicit !== undefined) throw err;
  unreachable = `MariaDB not reachable at ${base.host} (${(err as Error).message}); set GOS_TEST_MYSQL_URL`;
}

async function createDatabase(suffix: string): Promise<string> {
  const name = `${prefix}_${suffix}`;
  await admin!.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  created.push(name);
  return name;
}

after(async () => {
  if (admin === undefined) return;
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.end();
});

describe('mysql', { skip: unreachable ?? false }, () => {
  let sharedUrl = '';
  let fresh = 0;

  before(async () => {
    sharedUrl = urlFor(await createDatabase('shared'));
  });

  runStoreContract('mysql', {
    async make() {
      const store = new MysqlStore({ url: sharedUrl, autoMigrate: true, poolSize: 4 });
      await store.start();
      return store;
    },
    async freshConfig(): Promise<StoreConfig> {
      return { kind: 'mysql', url: urlFor(await createDatabase(`fresh${++fresh}`)) };
    },
    cliArgs(config) {
      assert.equal(config.kind, 'mysql');
      return ['--mysql-url', config.kind === 'mysql' ? config.url : ''];
    },
    // What MysqlConfigBundles documents: 16 MiB, or max_allowed_packet less 1 KiB when that is smaller.
    async maxConfigBundleBytes() {
      const [rows] = await admin!.query<mysql.RowDataPacket[]>('SELECT @@max_allowed_packet AS max_packet');
      return Math.min(16 * 1024 * 1024, Number(rows[0]?.max_packet) - 1024);
    },
  });

  let raced = 0;
  runMysqlMailRaces(async () => urlFor(await createDatabase(`mailrace${++raced}`)));

  test('mysql: without autoMigrate, start() refuses a schema that is behind, then accepts it once migrated', async () => {
    const url = urlFor(await createDatabase('behind'));
    const store = createStore({ kind: 'mysql', url });
    await assert.rejects(store.start(), (err: unknown) => {
      assert.ok(err instanceof CodedError);
      assert.equal(err.code, ErrorCodes.STO_ERR_MIGRATION);
      assert.match(err.message, /pending migration\(s\) 1 create_accounts/);
      return true;
    });
    const report = await runMigrations({ kind: 'mysql', url });
    assert.equal(report.applied.length, MIGRATIONS.length);
    await store.start(); // a failed start can be retried
    try {
      assert.equal(await store.saveScene('s', { ok: 1 }, 0), 1);
      assert.ok((await (store as MysqlStore).migrationStatus()).every((s) => s.state === 'applied'));
      assert.deepEqual((await (store as MysqlStore).migrate()).applied, []);
    } finally {
      await store.close();
    }
  });

  test('mysql: a migration whose DDL landed but whose ledger row did not (a crash between them) runs again without error', async () => {
    const url = urlFor(await createDatabase('crashed'));
    await runMigrations({ kind: 'mysql', url });
    // What a crash after `ALTER TABLE accounts ADD COLUMN group_id` (which commits at once) leaves.
    const last = MIGRATIONS.find((m) => m.name === 'add_account_groups');
    assert.ok(last !== undefined);
    const conn = await mysql.createConnection({ uri: url });
    try {
      await conn.query('DELETE FROM schema_migrations WHERE version = ?', [last.version]);
    } finally {
      await conn.end();
    }
    const report = await runMigrations({ kind: 'mysql', url });
    assert.deepEqual(report.applied.map((s) => s.version), [last.version]);
    assert.ok(report.status.every((s) => s.state === 'applied'));
  });

  test('mysql: an unreachable server is STO_ERR_CONNECTION with a cause, and never leaks the password', async () => {
    const store = new MysqlStore({ url: 'mysql://root:s3cret@127.0.0.1:1/gos', connectTimeoutMs: 2000 });
    await assert.rejects(store.start(), (err: unknown) => {
      assert.ok(err instanceof CodedError);
      assert.equal(err.code, ErrorCodes.STO_ERR_CONNECTION);
      assert.ok(err.cause !== undefined);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
    await store.close();
    await assert.rejects(runMigrations({ kind: 'mysql', url: urlFor(`${prefix}_missing`) }), { code: ErrorCodes.STO_ERR_CONNECTION, message: /Unknown database/ });
  });

  test('mysql: the password travels in the URL; wrong credentials are STO_ERR_CONNECTION', async () => {
    const u = new URL(sharedUrl);
    u.username = 'no_such_user';
    u.password = 'wrong';
    const store = new MysqlStore({ url: u.toString() });
    await assert.rejects(store.start(), { code: ErrorCodes.STO_ERR_CONNECTION });
    await store.close();
  });

  test('mysql: options are validated and name the option', () => {
    const bad = (fn: () => unknown, option: RegExp): void =>
      assert.throws(fn, (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.OPT_ERR_INVALID && option.test(err.message));
    bad(() => new MysqlStore({ url: 'postgres://x/y' }), /options\.url/);
    bad(() => new MysqlStore({ url: 'mysql://127.0.0.1:3306/' }), /options\.url/);
    bad(() => new MysqlStore({ url: 'not a url' }), /options\.url/);
    bad(() => new MysqlStore({ url: sharedUrl, poolSize: 0 }), /poolSize/);
    bad(() => new MysqlStore({ url: sharedUrl, autoMigrate: 'yes' as never }), /autoMigrate/);
    bad(() => new MysqlStore({ url: sharedUrl, pool_size: 3 } as never), /pool_size/);
  });

  test('mysql: the leaderboard archive, the player logs and the config bundles of a store not started are STO_ERR_CONNECTION', async () => {
    const store = new MysqlStore({ url: sharedUrl });
    await assert.rejects(store.leaderboardArchive.periods('board', 10), { code: ErrorCodes.STO_ERR_CONNECTION });
    await assert.rejects(store.leaderboardArchive.standing('board', 0, 'm'), { code: ErrorCodes.STO_ERR_CONNECTION });
    await assert.rejects(store.playerLogs.append([{ playerId: 'p', at: 1, event: 'e', sceneId: 's', fields: '{}' }]), { code: ErrorCodes.STO_ERR_CONNECTION });
    await assert.rejects(store.playerLogs.prune(1, 10), { code: ErrorCodes.STO_ERR_CONNECTION });
    await assert.rejects(store.configBundles.publish('v1', '{}'), { code: ErrorCodes.STO_ERR_CONNECTION });
    await assert.rejects(store.configBundles.latestSeq(), { code: ErrorCodes.STO_ERR_CONNECTION });
    await store.close();
  });

  test('mysql: a pool of one serves concurrent calls and batches', async () => {
    const store = new MysqlStore({ url: sharedUrl, poolSize: 1 });
    await store.start();
    try {
      const ids = Array.from({ length: 20 }, (_, i) => `pool1-${prefix}-${i}`);
      const versions = await Promise.all([
        ...ids.slice(0, 10).map((id) => store.savePlayer(id, { id }, 0)),
        store.saveBatch(ids.slice(10).map((id) => ({ kind: 'player' as const, id, data: { id }, expectedVersion: 0 }))).then((r) => r.map((x) => (x.ok ? x.version : -1))),
      ]);
      assert.deepEqual(versions.flat(), Array(20).fill(1));
    } finally {
      await store.close();
    }
  });

  test('mysql: overlapping batches on the same rows stay consistent', async () => {
    const store = new MysqlStore({ url: sharedUrl, poolSize: 8 });
    await store.start();
    try {
      const ids = Array.from({ length: 6 }, (_, i) => `overlap-${prefix}-${i}`);
      await store.saveBatch(ids.map((id) => ({ kind: 'scene' as const, id, data: 0, expectedVersion: 0 })));
      // Eight writers, each updating all rows from version 1 in a different order: per row
      // exactly one writer may win; the losers get STO_ERR_STALE_VERSION, never a deadlock error.
      const writers = Array.from({ length: 8 }, (_, w) => {
        const order = w % 2 === 0 ? ids : [...ids].reverse();
        return store.saveBatch(order.map((id) => ({ kind: 'scene' as const, id, data: w, expectedVersion: 1 })));
      });
      const results = await Promise.all(writers);
      for (const id of ids) {
        const wins = results.filter((r, w) => {
          const order = w % 2 === 0 ? ids : [...ids].reverse();
          const entry = r[order.indexOf(id)]!;
          if (!entry.ok) assert.equal(entry.error.code, ErrorCodes.STO_ERR_STALE_VERSION);
          return entry.ok;
        });
        assert.equal(wins.length, 1, `row ${id}`);
        assert.equal((await store.loadScene(id))?.version, 2);
      }
    } finally {
      await store.close();
    }
  });
});
