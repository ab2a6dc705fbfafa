import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import {
  TABLE_OF,
  checkId,
  checkSceneRef,
  checkObject,
  checkVersion,
  decodeData,
  duplicateUsername,
  encodeData,
  invalid,
  accountLookup,
  isRecordKind,
  lookupKey,
  notRunning,
  optionalInt,
  staleVersion,
  fenced,
  checkFence,
  checkGroupId,
  newAccount,
} from './common.js';
import { MIGRATIONS } from './migrations.js';
import {
  LEDGER_DDL,
  applyMigrations,
  readStatus,
  type AppliedMigration,
  type MigrationDriver,
  type MigrationReport,
  type MigrationState,
} from './migrator.js';
import type { AccountRecord, ClaimedRecord, NewAccount, RecordKind, SaveEntry, SaveResult, SqliteStoreOptions, Store, VersionedRecord } from './types.js';

type Db = Database.Database;

interface ResolvedSqliteOptions {
  readonly file: string;
  readonly busyTimeoutMs: number;
  readonly logger: Logger;
}

const SQLITE_OPTION_KEYS = new Set(['file', 'busyTimeoutMs', 'logger']);

function resolveOptions(options: SqliteStoreOptions): ResolvedSqliteOptions {
  const o = checkObject('SqliteStore options', options);
  for (const key of Object.keys(o)) if (!SQLITE_OPTION_KEYS.has(key)) throw invalid(`SqliteStore options.${key} is not an option`);
  if (typeof o.file !== 'string' || o.file.length === 0) throw invalid("SqliteStore options.file must be a file path or ':memory:'");
  return Object.freeze({
    file: o.file,
    busyTimeoutMs: optionalInt('SqliteStore options.busyTimeoutMs', o.busyTimeoutMs, 0, 5000),
    logger: (o.logger as Logger | undefined) ?? silentLogger,
  });
}

const isMemory = (file: string): boolean => file === ':memory:';

// Failures of the file or its locks rather than of one statement.
const SQLITE_CONNECTION_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT|PERM)/;

function mapError(err: unknown): unknown {
  if (err instanceof CodedError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SQLITE_CONNECTION_CODES.test(code)) {
    return new CodedError(ErrorCodes.STO_ERR_CONNECTION, `sqlite: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

/** Open (creating parent directories) and configure a database file. */
function openDb(o: ResolvedSqliteOptions, readonly: boolean): Db {
  try {
    if (!readonly && !isMemory(o.file)) mkdirSync(dirname(resolve(o.file)), { recursive: true });
    const db = new Database(o.file, { timeout: o.busyTimeoutMs, readonly, fileMustExist: readonly });
    try {
      if (!readonly) {
        // WAL: readers never block the writer; NORMAL sync is durable across process crashes
        // (a power cut may lose the last commits, see docs/storage.md).
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  } catch (err) {
    throw new CodedError(ErrorCodes.STO_ERR_CONNECTION, `cannot open sqlite database ${o.file}: ${(err as Error).message}`, { cause: err });
  }
}

function migrationDriver(db: Db): MigrationDriver {
  const readApplied = async (): Promise<AppliedMigration[]> => {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (exists === undefined) return [];
    const rows = db.prepare('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version').all() as Array<{
      version: number;
      name: string;
      checksum: string;
      applied_at: number;
    }>;
    return rows.map((r) => ({ version: r.version, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
  };
  return {
    dialect: 'sqlite',
    readApplied,
    async exclusive(fn) {
      db.exec(LEDGER_DDL.sqlite);
      return fn({
        readApplied,
        async apply(migration, checksum, appliedAt) {
          // IMMEDIATE takes the write lock first, so a second process migrating the same file
          // waits, then sees the ledger row and skips.
          return db
            .transaction((): boolean => {
              if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version) !== undefined) return false;
              for (const sql of migration.sqlite) db.exec(sql);
              db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)').run(
                migration.version,
                migration.name,
                checksum,
                appliedAt,
              );
              return true;
            })
            .immediate();
        },
      });
    },
  };
}

/**
 * Run `fn` with a migration driver on the file, then close it. With `statusOnly`, nothing is
 * created: a missing file reads as "no migrations applied".
 * @internal used by `runMigrations` / `getMigrationStatus`.
 */
export async function withSqliteMigrations<T>(
  options: SqliteStoreOptions,
  statusOnly: boolean,
  fn: (driver: MigrationDriver, logger: Logger) => Promise<T>,
): Promise<T> {
  const o = resolveOptions(options);
  const missing = statusOnly && (isMemory(o.file) || !existsSync(o.file));
  const db = missing ? new Database(':memory:') : openDb(o, statusOnly);
  try {
    return await fn(migrationDriver(db), o.logger);
  } catch (err) {
    throw mapError(err);
  } finally {
    db.close();
  }
}

interface AccountRow {
  account_id: string;
  username: string;
  password_hash: string;
  guest: number;
  created_at: number;
  group_id: string | null;
}

interface VersionedRow {
  data: string;
  version: number;
  updated_at: number;
}

function toAccount(row: AccountRow): AccountRecord {
  return {
    accountId: row.account_id,
    username: row.username,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
    guest: row.guest !== 0,
    groupId: row.group_id,
  };
}

type Stmt = Database.Statement<unknown[], unknown>;

interface TableStatements {
  readonly load: Stmt;
  readonly state: Stmt;
  readonly insert: Stmt;
  readonly update: Stmt;
  readonly claim: Stmt;
  readonly claimed: Stmt;
}

interface Statements {
  readonly insertAccount: Stmt;
  readonly accountByKey: Stmt;
  readonly accountById: Stmt;
  readonly setGroup: Stmt;
  readonly setPlayerScene: Stmt;
  readonly playerScene: Stmt;
  readonly tables: Readonly<Record<RecordKind, TableStatements>>;
}

function prepare(db: Db): Statements {
  const table = (name: string): TableStatements => ({
    // Version 0 is a row reserved by a claim and never saved: loaded as absent.
    load: db.prepare(`SELECT data, version, updated_at FROM ${name} WHERE id = ? AND version > 0`),
    state: db.prepare(`SELECT version, fence FROM ${name} WHERE id = ?`),
    insert: db.prepare(`INSERT INTO ${name} (id, data, version, fence, updated_at) VALUES (?, ?, 1, ?, ?) ON CONFLICT (id) DO NOTHING`),
    // The fence parameter is given twice: NULL skips the check.
    update: db.prepare(`UPDATE ${name} SET data = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? AND (? IS NULL OR fence = ?)`),
    claim: db.prepare(`INSERT INTO ${name} (id, data, version, fence, updated_at) VALUES (?, 'null', 0, 1, ?) ON CONFLICT (id) DO UPDATE SET fence = fence + 1`),
    claimed: db.prepare(`SELECT data, version, fence, updated_at FROM ${name} WHERE id = ?`),
  });
  const columns = 'account_id, username, password_hash, guest, created_at, group_id';
  return {
    insertAccount: db.prepare(
      'INSERT INTO accounts (account_id, username, username_key, password_hash, guest, created_at, group_id) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (username_key) DO NOTHING',
    ),
    accountByKey: db.prepare(`SELECT ${columns} FROM accounts WHERE username_key = ?`),
    accountById: db.prepare(`SELECT ${columns} FROM accounts WHERE account_id = ?`),
    setGroup: db.prepare('UPDATE accounts SET group_id = ? WHERE account_id = ?'),
    setPlayerScene: db.prepare(
      'INSERT INTO player_scenes (player_id, scene_id, updated_at) VALUES (?, ?, ?) ON CONFLICT (player_id) DO UPDATE SET scene_id = excluded.scene_id, updated_at = excluded.updated_at',
    ),
    playerScene: db.prepare('SELECT scene_id FROM player_scenes WHERE player_id = ?'),
    tables: { player: table(TABLE_OF.player), scene: table(TABLE_OF.scene) },
  };
}

/**
 * The embedded store: one SQLite file (WAL mode) through better-sqlite3. Calls are synchronous
 * underneath and exposed as promises; migrations are applied by `start()`. Several processes may
 * share the file (writes wait up to `busyTimeoutMs` for each other).
 */
export class SqliteStore implements Store {
  readonly #o: ResolvedSqliteOptions;
  readonly #log: Logger;
  #db: Db | undefined;
  #stmts: Statements | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** @throws OPT_ERR_INVALID when an option is malformed. */
  constructor(options: SqliteStoreOptions) {
    this.#o = resolveOptions(options);
    this.#log = this.#o.logger.child({ store: 'sqlite' });
  }

  /** Open the file and apply pending migrations. @throws STO_ERR_CONNECTION, STO_ERR_MIGRATION */
  start(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(notRunning(true));
    this.#starting ??= this.#start().catch((err: unknown) => {
      this.#starting = undefined;
      throw err;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const db = openDb(this.#o, false);
    try {
      const report = await applyMigrations(migrationDriver(db), MIGRATIONS, this.#log);
      this.#stmts = prepare(db);
      this.#db = db;
      this.#log.info({ file: this.#o.file, applied: report.applied.length }, 'sqlite store started');
    } catch (err) {
      db.close();
      throw mapError(err);
    }
  }

  /** Close the database. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#starting?.catch(() => {});
      const db = this.#db;
      this.#db = undefined;
      this.#stmts = undefined;
      if (db !== undefined) {
        db.close();
        this.#log.info('sqlite store closed');
      }
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The migrations of this database and where each stands. */
  async migrationStatus(): Promise<MigrationState[]> {
    return this.#run((db) => readStatus(migrationDriver(db), MIGRATIONS));
  }

  /** Apply pending migrations (already done by `start()`; useful when another process migrates). */
  async migrate(): Promise<MigrationReport> {
    return this.#run((db) => applyMigrations(migrationDriver(db), MIGRATIONS, this.#log));
  }

  async createAccount(input: NewAccount): Promise<AccountRecord> {
    const { account, key } = newAccount(input);
    return this.#run((_db, s) => {
      const res = s.insertAccount.run(account.accountId, account.username, key, account.passwordHash, account.guest ? 1 : 0, account.createdAt, account.groupId);
      if (res.changes === 0) throw duplicateUsername(account.username);
      return account;
    });
  }

  async findAccountByUsername(username: string): Promise<AccountRecord | null> {
    const key = lookupKey(username);
    return this.#run((_db, s) => {
      if (key === null) return null;
      const row = s.accountByKey.get(key) as AccountRow | undefined;
      return row === undefined ? null : toAccount(row);
    });
  }

  async getAccount(accountId: string): Promise<AccountRecord | null> {
    const id = accountLookup(accountId);
    return this.#run((_db, s) => {
      if (id === null) return null;
      const row = s.accountById.get(id) as AccountRow | undefined;
      return row === undefined ? null : toAccount(row);
    });
  }

  async setAccountGroup(accountId: string, groupId: string | null): Promise<boolean> {
    const group = checkGroupId(groupId);
    const id = accountLookup(accountId);
    return this.#run((_db, s) => id !== null && s.setGroup.run(group, id).changes === 1);
  }

  loadPlayer(playerId: string): Promise<VersionedRecord | null> {
    return this.#load('player', playerId);
  }

  savePlayer(playerId: string, data: unknown, expectedVersion: number, fence?: number): Promise<number> {
    return this.#saveOne('player', playerId, data, expectedVersion, fence);
  }

  async playerScene(playerId: string): Promise<string | null> {
    const id = checkId('player', playerId);
    return this.#run((_db, s) => (s.playerScene.get(id) as { scene_id: string } | undefined)?.scene_id ?? null);
  }

  claimPlayer(playerId: string): Promise<ClaimedRecord> {
    return this.#claim('player', playerId);
  }

  claimScene(sceneId: string): Promise<ClaimedRecord> {
    return this.#claim('scene', sceneId);
  }

  loadScene(sceneId: string): Promise<VersionedRecord | null> {
    return this.#load('scene', sceneId);
  }

  saveScene(sceneId: string, data: unknown, expectedVersion: number, fence?: number): Promise<number> {
    return this.#saveOne('scene', sceneId, data, expectedVersion, fence);
  }

  async saveBatch(entries: readonly SaveEntry[]): Promise<SaveResult[]> {
    if (!Array.isArray(entries)) throw invalid('saveBatch entries must be an array');
    const now = Date.now();
    return this.#run((db, s) =>
      db
        .transaction((): SaveResult[] =>
          entries.map((entry): SaveResult => {
            try {
              const e = checkObject('saveBatch entry', entry);
              if (!isRecordKind(e.kind)) throw invalid("saveBatch entry kind must be 'player' or 'scene'");
              const id = checkId(e.kind, e.id);
              const sceneId = e.kind === 'player' ? checkSceneRef(e.sceneId) : undefined;
              const version = this.#save(s, e.kind, id, encodeData(e.data), checkVersion(e.expectedVersion), checkFence(e.fence), now);
              if (sceneId !== undefined) s.setPlayerScene.run(id, sceneId, now);
              return { ok: true, version };
            } catch (err) {
              // A refused entry is its own business; anything else (I/O, locks) fails the batch.
              if (err instanceof CodedError && (err.code === ErrorCodes.STO_ERR_STALE_VERSION || err.code === ErrorCodes.STO_ERR_FENCED || err.code === ErrorCodes.OPT_ERR_INVALID)) {
                return { ok: false, error: err.toData() };
              }
              throw err;
            }
          }),
        )
        .immediate(),
    );
  }

  async #load(kind: RecordKind, rawId: string): Promise<VersionedRecord | null> {
    const id = checkId(kind, rawId);
    return this.#run((_db, s) => {
      const row = s.tables[kind].load.get(id) as VersionedRow | undefined;
      return row === undefined ? null : { id, data: decodeData(row.data), version: row.version, updatedAt: row.updated_at };
    });
  }

  async #saveOne(kind: RecordKind, rawId: string, data: unknown, expectedVersion: number, rawFence: number | undefined): Promise<number> {
    const id = checkId(kind, rawId);
    const expected = checkVersion(expectedVersion);
    const fence = checkFence(rawFence);
    const json = encodeData(data);
    return this.#run((_db, s) => this.#save(s, kind, id, json, expected, fence, Date.now()));
  }

  #save(s: Statements, kind: RecordKind, id: string, json: string, expected: number, fence: number | undefined, now: number): number {
    const t = s.tables[kind];
    // A first write inserts; over a row reserved by a claim (version 0) it updates.
    if (expected === 0 && t.insert.run(id, json, fence ?? 0, now).changes === 1) return 1;
    const f = fence ?? null;
    if (t.update.run(json, expected + 1, now, id, expected, f, f).changes === 1) return expected + 1;
    const row = t.state.get(id) as { version: number; fence: number } | undefined;
    if (fence !== undefined && row !== undefined && row.fence !== fence) throw fenced(kind, id, fence, row.fence);
    throw staleVersion(kind, id, expected, row?.version ?? 0);
  }

  async #claim(kind: RecordKind, rawId: string): Promise<ClaimedRecord> {
    const id = checkId(kind, rawId);
    return this.#run((db, s) =>
      db
        .transaction((): ClaimedRecord => {
          const t = s.tables[kind];
          t.claim.run(id, Date.now());
          const row = t.claimed.get(id) as VersionedRow & { fence: number };
          return { record: row.version === 0 ? null : { id, data: decodeData(row.data), version: row.version, updatedAt: row.updated_at }, fence: row.fence };
        })
        .immediate(),
    );
  }

  async #run<T>(fn: (db: Db, s: Statements) => T | Promise<T>): Promise<T> {
    const db = this.#db;
    const s = this.#stmts;
    if (db === undefined || s === undefined || this.#closing !== undefined) throw notRunning(this.#closing !== undefined);
    try {
      return await fn(db, s);
    } catch (err) {
      throw mapError(err);
    }
  }
}
