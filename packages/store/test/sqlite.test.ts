import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { CodedError, ErrorCodes } from '@gos/schema';
import { MIGRATIONS, SqliteStore, createStore, getMigrationStatus, runMigrations, type StoreConfig } from '../src/index.js';
import { applyMigrations } from '../src/migrator.js';
import { withSqliteMigrations } from '../src/sqlite-migrations.js';
import { runStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'gos-store-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const shared = join(dir, 'shared', 'nested', 'store.db');
let fresh = 0;

runStoreContract('sqlite', {
  async make() {
    const store = new SqliteStore({ file: shared });
    await store.start();
    return store;
  },
  async freshConfig(): Promise<StoreConfig> {
    return { kind: 'sqlite', file: join(dir, `fresh-${++fresh}`, 'db.sqlite') };
  },
  cliArgs(config) {
    assert.equal(config.kind, 'sqlite');
    return ['--sqlite', config.kind === 'sqlite' ? config.file : ''];
  },
  async maxConfigBundleBytes() {
    return 16 * 1024 * 1024;
  },
});

test('sqlite: data persists across close and reopen, in WAL mode', async () => {
  const file = join(dir, 'reopen', 'deep', 'game.db');
  const first = createStore({ kind: 'sqlite', file });
  await first.start();
  const account = await first.createAccount({ username: 'Persisted', passwordHash: 'h' });
  assert.equal(await first.savePlayer('p1', { gold: 5 }, 0), 1);
  assert.equal(await first.saveScene('s1', { tiles: [1, 2] }, 0), 1);
  assert.equal(await first.savePlayer('p1', { gold: 6 }, 1), 2);
  await first.close();

  const raw = new Database(file, { readonly: true });
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  raw.close();

  const second = new SqliteStore({ file });
  await second.start();
  try {
    assert.deepEqual(await second.findAccountByUsername('persisted'), account);
    assert.deepEqual(await second.loadPlayer('p1').then((r) => [r?.data, r?.version]), [{ gold: 6 }, 2]);
    assert.deepEqual((await second.loadScene('s1'))?.data, { tiles: [1, 2] });
    await assert.rejects(second.savePlayer('p1', {}, 1), { code: ErrorCodes.STO_ERR_STALE_VERSION });
    assert.deepEqual(await second.migrate().then((r) => r.applied), [], 'reopening applies nothing');
  } finally {
    await second.close();
  }
});

test('sqlite: two stores on one file see each other’s writes and fence each other', async () => {
  const file = join(dir, 'two.db');
  const a = new SqliteStore({ file });
  const b = new SqliteStore({ file });
  await Promise.all([a.start(), b.start()]);
  try {
    assert.equal(await a.saveScene('world', { owner: 'a' }, 0), 1);
    assert.deepEqual((await b.loadScene('world'))?.data, { owner: 'a' });
    assert.equal(await b.saveScene('world', { owner: 'b' }, 1), 2);
    await assert.rejects(a.saveScene('world', { owner: 'a again' }, 1), { code: ErrorCodes.STO_ERR_STALE_VERSION });
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("sqlite: ':memory:' works and [Symbol.asyncDispose] closes", async () => {
  const store = new SqliteStore({ file: ':memory:' });
  await assert.rejects(store.leaderboardArchive.periods('board', 10), { code: ErrorCodes.STO_ERR_CONNECTION }, 'not started yet');
  await assert.rejects(store.playerLogs.query({ playerId: 'p', limit: 10 }), { code: ErrorCodes.STO_ERR_CONNECTION }, 'not started yet');
  await assert.rejects(store.configBundles.latest(), { code: ErrorCodes.STO_ERR_CONNECTION }, 'not started yet');
  await store.start();
  await store.start(); // idempotent
  assert.equal(await store.savePlayer('p', 1, 0), 1);
  await store[Symbol.asyncDispose]();
  await assert.rejects(store.loadPlayer('p'), { code: ErrorCodes.STO_ERR_CONNECTION });
});

test('sqlite: options are validated, named and frozen in', () => {
  const bad = (fn: () => unknown, option: RegExp): void =>
    assert.throws(fn, (err: unknown) => err instanceof CodedError && err.code === ErrorCodes.OPT_ERR_INVALID && option.test(err.message));
  bad(() => new SqliteStore({ file: '' }), /options\.file/);
  bad(() => new SqliteStore({ file: 'x', busyTimeoutMs: -1 }), /busyTimeoutMs/);
  bad(() => new SqliteStore({ file: 'x', fil: 'y' } as never), /options\.fil /);
  bad(() => createStore({ kind: 'postgres' } as never), /kind/);
  const options = { file: join(dir, 'frozen.db') };
  new SqliteStore(options);
  assert.deepEqual(options, { file: join(dir, 'frozen.db') }, 'caller options are not mutated');
});

test('sqlite: an unopenable file is STO_ERR_CONNECTION with a cause', async () => {
  // A directory where the file should be: SQLite cannot open it.
  mkdirSync(join(dir, 'a-directory'));
  const store = new SqliteStore({ file: join(dir, 'a-directory') });
  await assert.rejects(store.start(), (err: unknown) => {
    assert.ok(err instanceof CodedError);
    assert.equal(err.code, ErrorCodes.STO_ERR_CONNECTION);
    assert.ok(err.cause instanceof Error);
    return true;
  });
  await store.close();
});

test('sqlite: --status does not create the file; a failed migration rolls back and stops', async () => {
  const file = join(dir, 'never', 'created.db');
  const status = await getMigrationStatus({ kind: 'sqlite', file });
  assert.ok(status.every((s) => s.state === 'pending'));
  assert.equal(existsSync(file), false);

  const broken = [
    MIGRATIONS[0]!,
    { version: 2, name: 'broken', mysql: [], sqlite: ['CREATE TABLE half_done (x INTEGER)', 'THIS IS NOT SQL'] },
    { version: 3, name: 'never_reached', mysql: [], sqlite: ['CREATE TABLE never (x INTEGER)'] },
  ];
  const target = join(dir, 'broken.db');
  await assert.rejects(
    withSqliteMigrations({ file: target }, false, (driver, logger) => applyMigrations(driver, broken, logger)),
    (err: unknown) => {
      assert.ok(err instanceof CodedError);
      assert.equal(err.code, ErrorCodes.STO_ERR_MIGRATION);
      assert.match(err.message, /migration 2 broken failed/);
      assert.ok(err.cause !== undefined);
      return true;
    },
  );
  const raw = new Database(target, { readonly: true });
  try {
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, ['accounts', 'schema_migrations'], 'migration 2 rolled back, 3 never ran');
    assert.deepEqual(raw.prepare('SELECT version FROM schema_migrations').pluck().all(), [1]);
  } finally {
    raw.close();
  }
});

test('sqlite: a migration edited after it was applied stops start()', async () => {
  const file = join(dir, 'edited.db');
  await runMigrations({ kind: 'sqlite', file });
  const raw = new Database(file);
  raw.prepare("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1").run();
  raw.close();
  assert.equal((await getMigrationStatus({ kind: 'sqlite', file }))[0]?.state, 'changed');
  const store = new SqliteStore({ file });
  await assert.rejects(store.start(), { code: ErrorCodes.STO_ERR_MIGRATION, message: /edited after being applied/ });
  await store.close();
});
