import { setTimeout as delay } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { CodedError, ErrorCodes, silentLogger, toErrorData, type Logger } from '@gos/schema';
import {
  TABLE_OF,
  InFlight,
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
  optionalBool,
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
  assertCurrent,
  readStatus,
  type AppliedMigration,
  type MigrationDriver,
  type MigrationReport,
  type MigrationState,
} from './migrator.js';
import type { AccountRecord, ClaimedRecord, MysqlStoreOptions, NewAccount, RecordKind, SaveEntry, SaveResult, Store, VersionedRecord } from './types.js';

interface ResolvedMysqlOptions {
  readonly url: string;
  /** `host:port/database`, for logs and messages: never the password. */
  readonly target: string;
  readonly database: string;
  readonly poolSize: number;
  readonly maxQueuedRequests: number;
  readonly autoMigrate: boolean;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

const MYSQL_OPTION_KEYS = new Set(['url', 'poolSize', 'maxQueuedRequests', 'autoMigrate', 'connectTimeoutMs', 'logger']);

function resolveOptions(options: MysqlStoreOptions): ResolvedMysqlOptions {
  const o = checkObject('MysqlStore options', options);
  for (const key of Object.keys(o)) if (!MYSQL_OPTION_KEYS.has(key)) throw invalid(`MysqlStore options.${key} is not an option`);
  const bad = invalid('MysqlStore options.url must look like mysql://user:password@host:3306/database');
  if (typeof o.url !== 'string') throw bad;
  let parsed: URL;
  try {
    parsed = new URL(o.url);
  } catch {
    throw bad;
  }
  const database = decodeURIComponent(parsed.pathname.slice(1));
  if (parsed.protocol !== 'mysql:' || parsed.hostname === '' || database === '' || database.includes('/')) throw bad;
  return Object.freeze({
    url: o.url,
    target: `${parsed.hostname}:${parsed.port === '' ? '3306' : parsed.port}/${database}`,
    database,
    poolSize: optionalInt('MysqlStore options.poolSize', o.poolSize, 1, 10),
    maxQueuedRequests: optionalInt('MysqlStore options.maxQueuedRequests', o.maxQueuedRequests, 1, 10_000),
    autoMigrate: optionalBool('MysqlStore options.autoMigrate', o.autoMigrate, false),
    connectTimeoutMs: optionalInt('MysqlStore options.connectTimeoutMs', o.connectTimeoutMs, 1, 10_000),
    logger: (o.logger as Logger | undefined) ?? silentLogger,
  });
}

const ER_DUP_ENTRY = 1062;
/** What a migration's `ADD COLUMN` / `ADD INDEX` raises when a crashed earlier run already added it. */
const ER_DUP_FIELDNAME = 1060;
const ER_DUP_KEYNAME = 1061;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;
/** Attempts of a transaction that lost a deadlock or lock wait (InnoDB rolled it back). */
const MAX_TX_ATTEMPTS = 5;

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_HOST_IS_BLOCKED',
  'ER_HOST_NOT_PRIVILEGED',
]);
// mysql2 raises these without a code.
const POOL_MESSAGES = new Set(['Pool is closed.', 'Queue limit reached.']);

interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  message?: unknown;
}

const errnoOf = (err: unknown): unknown => (err as DriverError | null)?.errno;

function mapError(err: unknown, target: string): unknown {
  if (err instanceof CodedError) return err;
  const e = (err ?? {}) as DriverError;
  if (e.fatal === true || (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) || (typeof e.message === 'string' && POOL_MESSAGES.has(e.message))) {
    const detail = typeof e.message === 'string' && e.message !== '' ? e.message : String(e.code ?? err);
    return new CodedError(ErrorCodes.STO_ERR_CONNECTION, `mysql ${target}: ${detail}`, { cause: err });
  }
  return err;
}

/** Create the pool; connections open lazily. */
function openPool(o: ResolvedMysqlOptions): Pool {
  return mysql.createPool({
    uri: o.url,
    connectionLimit: o.poolSize,
    maxIdle: o.poolSize,
    queueLimit: o.maxQueuedRequests,
    waitForConnections: true,
    connectTimeout: o.connectTimeoutMs,
    enableKeepAlive: true,
    charset: 'utf8mb4',
    // Versions and timestamps are safe integers; keep them numbers.
    supportBigNumbers: true,
    bigNumberStrings: false,
    multipleStatements: false,
  });
}

async function ping(pool: Pool, target: string): Promise<void> {
  let conn: PoolConnection;
  try {
    conn = await pool.getConnection();
  } catch (err) {
    const message = err instanceof Error && err.message !== '' ? err.message : String((err as DriverError).code ?? err);
    throw new CodedError(ErrorCodes.STO_ERR_CONNECTION, `cannot connect to mysql ${target}: ${message}`, { cause: err });
  }
  try {
    await conn.ping();
  } finally {
    conn.release();
  }
}

type Queryable = Pool | PoolConnection;

async function readLedger(q: Queryable): Promise<AppliedMigration[]> {
  const [tables] = await q.execute<RowDataPacket[]>(
    'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
    ['schema_migrations'],
  );
  if (tables.length === 0) return [];
  const [rows] = await q.execute<RowDataPacket[]>('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version');
  return rows.map((r) => ({ version: Number(r.version), name: String(r.name), checksum: String(r.checksum), appliedAt: Number(r.applied_at) }));
}

function migrationDriver(pool: Pool, o: ResolvedMysqlOptions): MigrationDriver {
  return {
    dialect: 'mysql',
    readApplied: () => readLedger(pool),
    async exclusive(fn) {
      const conn = await pool.getConnection();
      // GET_LOCK is server-wide and held by this connection: one migrator per database at a time.
      const lock = `gos_migrate:${o.database}`.slice(0, 64);
      try {
        const [rows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS got', [lock, 60]);
        if (Number(rows[0]?.got) !== 1) {
          throw new CodedError(ErrorCodes.STO_ERR_MIGRATION, `timed out waiting for the migration lock of ${o.target}`);
        }
        try {
          await conn.query(LEDGER_DDL.mysql);
          return await fn({
            readApplied: () => readLedger(conn),
            async apply(migration, checksum, appliedAt) {
              // DDL commits implicitly in MySQL; the transaction still makes data statements
              // and the ledger row atomic, and migrations are written to be re-runnable.
              await conn.beginTransaction();
              try {
                for (const sql of migration.mysql) {
                  try {
                    await conn.query(sql);
                  } catch (err) {
                    // A run that crashed after this DDL committed (DDL commits implicitly) but
                    // before the ledger row: what the statement adds is already there.
                    const errno = errnoOf(err);
                    if (errno !== ER_DUP_FIELDNAME && errno !== ER_DUP_KEYNAME) throw err;
                    o.logger.warn({ version: migration.version, errno }, 'migration statement already applied; continuing');
                  }
                }
                await conn.execute('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)', [
                  migration.version,
                  migration.name,
                  checksum,
                  appliedAt,
                ]);
                await conn.commit();
              } catch (err) {
                await conn.rollback().catch(() => {});
                throw err;
              }
              return true;
            },
          });
        } finally {
          await conn.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => {});
        }
      } finally {
        conn.release();
      }
    },
  };
}

/**
 * Run `fn` with a migration driver on a fresh pool, then close it.
 * @internal used by `runMigrations` / `getMigrationStatus`.
 */
export async function withMysqlMigrations<T>(options: MysqlStoreOptions, fn: (driver: MigrationDriver, logger: Logger) => Promise<T>): Promise<T> {
  const o = resolveOptions({ ...options, poolSize: 2 });
  const pool = openPool(o);
  try {
    await ping(pool, o.target);
    return await fn(migrationDriver(pool, o), o.logger);
  } catch (err) {
    throw mapError(err, o.target);
  } finally {
    await pool.end().catch(() => {});
  }
}

function toAccount(row: RowDataPacket): AccountRecord {
  return {
    accountId: String(row.account_id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    createdAt: Number(row.created_at),
    guest: Number(row.guest) !== 0,
    groupId: row.group_id === null ? null : String(row.group_id),
  };
}

const ACCOUNT_COLUMNS = 'account_id, username, password_hash, guest, created_at, group_id';

async function save(q: Queryable, kind: RecordKind, id: string, json: string, expected: number, fence: number | undefined, now: number): Promise<number> {
  const table = TABLE_OF[kind];
  if (expected === 0) {
    try {
      await q.execute(`INSERT INTO ${table} (id, data, version, fence, updated_at) VALUES (?, ?, 1, ?, ?)`, [id, json, fence ?? 0, now]);
      return 1;
    } catch (err) {
      if (errnoOf(err) !== ER_DUP_ENTRY) throw err;
      // The row exists: reserved by a claim (version 0, updated below) or written by someone else.
    }
  }
  // mysql2 sets CLIENT_FOUND_ROWS, so affectedRows counts the matched row. The fence parameter
  // is given twice: NULL skips the check.
  const f = fence ?? null;
  const [res] = await q.execute<ResultSetHeader>(
    `UPDATE ${table} SET data = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? AND (? IS NULL OR fence = ?)`,
    [json, expected + 1, now, id, expected, f, f],
  );
  if (res.affectedRows === 1) return expected + 1;
  const [rows] = await q.execute<RowDataPacket[]>(`SELECT version, fence FROM ${table} WHERE id = ?`, [id]);
  const row = rows[0];
  if (fence !== undefined && row !== undefined && Number(row.fence) !== fence) throw fenced(kind, id, fence, Number(row.fence));
  throw staleVersion(kind, id, expected, row === undefined ? 0 : Number(row.version));
}

/**
 * The production store: MySQL or MariaDB through a mysql2 connection pool. By default
 * `start()` only checks that the schema is current (apply migrations with
 * `npm run migrate -- --mysql-url …` at deploy time); set `autoMigrate` to apply them on start.
 */
export class MysqlStore implements Store {
  readonly #o: ResolvedMysqlOptions;
  readonly #log: Logger;
  readonly #inFlight = new InFlight();
  #pool: Pool | undefined;
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** @throws OPT_ERR_INVALID when an option is malformed. */
  constructor(options: MysqlStoreOptions) {
    this.#o = resolveOptions(options);
    this.#log = this.#o.logger.child({ store: 'mysql', target: this.#o.target });
  }

  /**
   * Connect, then check the schema (or migrate it with `autoMigrate`).
   * @throws STO_ERR_CONNECTION when the server cannot be reached, STO_ERR_MIGRATION when the schema is behind or a migration fails.
   */
  start(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(notRunning(true));
    this.#starting ??= this.#start().catch((err: unknown) => {
      this.#starting = undefined;
      throw err;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const pool = openPool(this.#o);
    try {
      await ping(pool, this.#o.target);
      const driver = migrationDriver(pool, this.#o);
      if (this.#o.autoMigrate) {
        const report = await applyMigrations(driver, MIGRATIONS, this.#log);
        assertCurrent(report.status, this.#log);
      } else {
        assertCurrent(await readStatus(driver, MIGRATIONS), this.#log);
      }
    } catch (err) {
      await pool.end().catch(() => {});
      throw mapError(err, this.#o.target);
    }
    this.#pool = pool;
    this.#log.info({ poolSize: this.#o.poolSize }, 'mysql store started');
  }

  /** Wait for operations in flight, then end the pool. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#starting?.catch(() => {});
      const pool = this.#pool;
      this.#pool = undefined;
      await this.#inFlight.drain();
      if (pool !== undefined) {
        await pool.end().catch((err: unknown) => this.#log.warn({ err }, 'error while ending the mysql pool'));
        this.#log.info('mysql store closed');
      }
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The migrations of this database and where each stands. */
  migrationStatus(): Promise<MigrationState[]> {
    return this.#run((pool) => readStatus(migrationDriver(pool, this.#o), MIGRATIONS));
  }

  /** Apply pending migrations on the running store. @throws STO_ERR_MIGRATION */
  migrate(): Promise<MigrationReport> {
    return this.#run((pool) => applyMigrations(migrationDriver(pool, this.#o), MIGRATIONS, this.#log));
  }

  createAccount(input: NewAccount): Promise<AccountRecord> {
    return this.#run(async (pool) => {
      const { account, key } = newAccount(input);
      try {
        await pool.execute(
          'INSERT INTO accounts (account_id, username, username_key, password_hash, guest, created_at, group_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
          [account.accountId, account.username, key, account.passwordHash, account.guest ? 1 : 0, account.createdAt, account.groupId],
        );
      } catch (err) {
        // The random UUID primary key does not collide in practice; the unique key is the name.
        if (errnoOf(err) === ER_DUP_ENTRY) throw duplicateUsername(account.username, err);
        throw err;
      }
      return account;
    });
  }

  findAccountByUsername(username: string): Promise<AccountRecord | null> {
    return this.#run(async (pool) => {
      const key = lookupKey(username);
      if (key === null) return null;
      const [rows] = await pool.execute<RowDataPacket[]>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE username_key = ?`, [key]);
      return rows[0] === undefined ? null : toAccount(rows[0]);
    });
  }

  getAccount(accountId: string): Promise<AccountRecord | null> {
    return this.#run(async (pool) => {
      const id = accountLookup(accountId);
      if (id === null) return null;
      const [rows] = await pool.execute<RowDataPacket[]>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE account_id = ?`, [id]);
      return rows[0] === undefined ? null : toAccount(rows[0]);
    });
  }

  setAccountGroup(accountId: string, groupId: string | null): Promise<boolean> {
    return this.#run(async (pool) => {
      const group = checkGroupId(groupId);
      const id = accountLookup(accountId);
      if (id === null) return false;
      // affectedRows counts the matched row even when its group is unchanged (CLIENT_FOUND_ROWS).
      const [res] = await pool.execute<ResultSetHeader>('UPDATE accounts SET group_id = ? WHERE account_id = ?', [group, id]);
      return res.affectedRows === 1;
    });
  }

  loadPlayer(playerId: string): Promise<VersionedRecord | null> {
    return this.#load('player', playerId);
  }

  savePlayer(playerId: string, data: unknown, expectedVersion: number, fence?: number): Promise<number> {
    return this.#saveOne('player', playerId, data, expectedVersion, fence);
  }

  playerScene(playerId: string): Promise<string | null> {
    return this.#run(async (pool) => {
      const id = checkId('player', playerId);
      const [rows] = await pool.execute<RowDataPacket[]>('SELECT scene_id FROM player_scenes WHERE player_id = ?', [id]);
      const row = rows[0];
      return row === undefined ? null : String(row.scene_id);
    });
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

  saveBatch(entries: readonly SaveEntry[]): Promise<SaveResult[]> {
    return this.#run(async (pool) => {
      if (!Array.isArray(entries)) throw invalid('saveBatch entries must be an array');
      const now = Date.now();
      // Validate and serialise before taking a connection, so bad entries cost no round trip.
      const prepared = entries.map((entry): { kind: RecordKind; id: string; json: string; expected: number; fence: number | undefined; sceneId: string | undefined } | SaveResult => {
        try {
          const e = checkObject('saveBatch entry', entry);
          if (!isRecordKind(e.kind)) throw invalid("saveBatch entry kind must be 'player' or 'scene'");
          const sceneId = e.kind === 'player' ? checkSceneRef(e.sceneId) : undefined;
          return { kind: e.kind, id: checkId(e.kind, e.id), json: encodeData(e.data), expected: checkVersion(e.expectedVersion), fence: checkFence(e.fence), sceneId };
        } catch (err) {
          return { ok: false, error: toErrorData(err, ErrorCodes.OPT_ERR_INVALID) };
        }
      });
      // Every batch locks rows in the same (kind, id) order, so overlapping batches queue up
      // instead of deadlocking. The sort is stable: entries for one row keep their order.
      const order = prepared.map((_, i) => i);
      order.sort((a, b) => {
        const pa = prepared[a]!;
        const pb = prepared[b]!;
        const ka = 'ok' in pa ? '' : `${pa.kind}\u0000${pa.id}`;
        const kb = 'ok' in pb ? '' : `${pb.kind}\u0000${pb.id}`;
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
      return this.#transaction(pool, async (conn) => {
        const results: SaveResult[] = new Array<SaveResult>(prepared.length);
        for (const i of order) {
          const p = prepared[i]!;
          if ('ok' in p) {
            results[i] = p;
            continue;
          }
          try {
            results[i] = { ok: true, version: await save(conn, p.kind, p.id, p.json, p.expected, p.fence, now) };
            if (p.sceneId !== undefined) {
              await conn.execute(
                'INSERT INTO player_scenes (player_id, scene_id, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE scene_id = VALUES(scene_id), updated_at = VALUES(updated_at)',
                [p.id, p.sceneId, now],
              );
            }
          } catch (err) {
            // InnoDB rolled back only the failed statement; the rest of the batch goes on.
            if (err instanceof CodedError && (err.code === ErrorCodes.STO_ERR_STALE_VERSION || err.code === ErrorCodes.STO_ERR_FENCED)) results[i] = { ok: false, error: err.toData() };
            else throw err;
          }
        }
        return results;
      });
    });
  }

  #load(kind: RecordKind, rawId: string): Promise<VersionedRecord | null> {
    return this.#run(async (pool) => {
      const id = checkId(kind, rawId);
      // Version 0 is a row reserved by a claim and never saved: loaded as absent.
      const [rows] = await pool.execute<RowDataPacket[]>(`SELECT data, version, updated_at FROM ${TABLE_OF[kind]} WHERE id = ? AND version > 0`, [id]);
      const row = rows[0];
      if (row === undefined) return null;
      return { id, data: decodeData(String(row.data)), version: Number(row.version), updatedAt: Number(row.updated_at) };
    });
  }

  #saveOne(kind: RecordKind, rawId: string, data: unknown, expectedVersion: number, rawFence: number | undefined): Promise<number> {
    return this.#run(async (pool) => {
      const id = checkId(kind, rawId);
      const expected = checkVersion(expectedVersion);
      return save(pool, kind, id, encodeData(data), expected, checkFence(rawFence), Date.now());
    });
  }

  #claim(kind: RecordKind, rawId: string): Promise<ClaimedRecord> {
    return this.#run(async (pool) => {
      const id = checkId(kind, rawId);
      const table = TABLE_OF[kind];
      return this.#transaction(pool, async (conn) => {
        // One statement takes the row lock and moves the token: concurrent claims queue up.
        await conn.execute(`INSERT INTO ${table} (id, data, version, fence, updated_at) VALUES (?, 'null', 0, 1, ?) ON DUPLICATE KEY UPDATE fence = fence + 1`, [
          id,
          Date.now(),
        ]);
        const [rows] = await conn.execute<RowDataPacket[]>(`SELECT data, version, fence, updated_at FROM ${table} WHERE id = ?`, [id]);
        const row = rows[0]!;
        const version = Number(row.version);
        return {
          record: version === 0 ? null : { id, data: decodeData(String(row.data)), version, updatedAt: Number(row.updated_at) },
          fence: Number(row.fence),
        };
      });
    });
  }

  /** Run `fn` in a transaction on one connection, retrying when InnoDB picked it as a deadlock victim. */
  async #transaction<T>(pool: Pool, fn: (conn: PoolConnection) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) await delay(Math.random() * 10 * attempt);
      const conn = await pool.getConnection();
      let broken = false;
      try {
        await conn.beginTransaction();
        const out = await fn(conn);
        await conn.commit();
        return out;
      } catch (err) {
        broken = (err as DriverError).fatal === true;
        if (!broken) await conn.rollback().catch(() => {});
        const errno = errnoOf(err);
        if ((errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT) && attempt < MAX_TX_ATTEMPTS) {
          this.#log.debug({ errno, attempt }, 'transaction lost a lock; retrying');
          continue;
        }
        throw err;
      } finally {
        if (broken) conn.destroy();
        else conn.release();
      }
    }
  }

  #run<T>(fn: (pool: Pool) => Promise<T>): Promise<T> {
    const pool = this.#pool;
    if (pool === undefined || this.#closing !== undefined) return Promise.reject(notRunning(this.#closing !== undefined));
    return this.#inFlight.track(
      fn(pool).catch((err: unknown) => {
        throw mapError(err, this.#o.target);
      }),
    );
  }
}
