import { setTimeout as delay } from 'node:timers/promises';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ErrorCodes, toErrorData, type Logger } from '@gos/schema';
import {
  TABLE_OF,
  checkClaimBatch,
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
  checkFence,
  checkGroupId,
  checkLimit,
  checkTime,
  checkTimerChanges,
  checkSharedChanges,
  timerOwner,
  newAccount,
} from './common.js';
import { MIGRATIONS } from './migrations.js';
import { applyMigrations, assertCurrent, readStatus, type MigrationReport, type MigrationState } from './migrator.js';
import { mysqlMigrationDriver } from './mysql-migrations.js';
import { resolveMysqlOptions, type ResolvedMysqlOptions } from './mysql-options.js';
import { ER_DUP_ENTRY, errnoOf, mapMysqlError, openPool, ping, WARM_CONNECTIONS, type DriverError } from './mysql-pool.js';
import { ACCOUNT_COLUMNS, save, toAccount } from './mysql-records.js';
import { writeBatch, type PreparedEntry } from './mysql-batch.js';
import { MysqlLeaderboardArchive, type MysqlAccess } from './mysql-leaderboard-archive.js';
import { MysqlPlayerLogs } from './mysql-player-logs.js';
import { MysqlConfigBundles } from './mysql-config-bundles.js';
import { MysqlMail } from './mysql-mail.js';
import { checkMailClaims } from './mail-args.js';
import { MAX_CLAIM_BATCH } from './types.js';
import type { AccountRecord, ClaimedPlayer, ClaimedRecord, DueOwner, MysqlStoreOptions, NewAccount, RecordKind, SaveEntry, SaveResult, SharedRow, Store, TimerRecord, VersionedRecord } from './types.js';
import type { ConfigBundleStore, LeaderboardArchive, MailStore, PlayerLogStore } from './service-types.js';

const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;
/** Attempts of a transaction that lost a deadlock or lock wait (InnoDB rolled it back). */
const MAX_TX_ATTEMPTS = 5;

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
  /** What the archive, the player logs, the config bundles and the mail borrow: this store's operations and transactions. */
  readonly #access: MysqlAccess = { run: (fn) => this.#run(fn), transaction: (pool, fn) => this.#transaction(pool, fn) };
  /** The archived standings of leaderboards, in this store's database. */
  readonly leaderboardArchive: LeaderboardArchive = new MysqlLeaderboardArchive(this.#access);
  /** Players' logged events, in this store's database. */
  readonly playerLogs: PlayerLogStore = new MysqlPlayerLogs(this.#access);
  /** Published config bundles, in this store's database. */
  readonly configBundles: ConfigBundleStore = new MysqlConfigBundles(this.#access);
  /** Players' mailboxes, in this store's database. */
  readonly mail: MailStore = new MysqlMail(this.#access);

  /** @throws OPT_ERR_INVALID when an option is malformed. */
  constructor(options: MysqlStoreOptions) {
    this.#o = resolveMysqlOptions(options);
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
      await ping(pool, this.#o.target, Math.min(this.#o.poolSize, WARM_CONNECTIONS));
      const driver = mysqlMigrationDriver(pool, this.#o);
      if (this.#o.autoMigrate) {
        const report = await applyMigrations(driver, MIGRATIONS, this.#log);
        assertCurrent(report.status, this.#log);
      } else {
        assertCurrent(await readStatus(driver, MIGRATIONS), this.#log);
      }
    } catch (err) {
      await pool.end().catch(() => {});
      throw mapMysqlError(err, this.#o.target);
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
    return this.#run((pool) => readStatus(mysqlMigrationDriver(pool, this.#o), MIGRATIONS));
  }

  /** Apply pending migrations on the running store. @throws STO_ERR_MIGRATION */
  migrate(): Promise<MigrationReport> {
    return this.#run((pool) => applyMigrations(mysqlMigrationDriver(pool, this.#o), MIGRATIONS, this.#log));
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

  claimPlayers(playerIds: readonly string[]): Promise<ClaimedPlayer[]> {
    return this.#run(async (pool) => {
      const ids = checkClaimBatch(playerIds, MAX_CLAIM_BATCH);
      if (ids.length === 0) return [];
      // Rows locked in one order by every batch: two batches that overlap queue, never deadlock.
      const sorted = [...ids].sort();
      const marks = sorted.map(() => '?').join(', ');
      const claimed = await this.#transaction(pool, async (conn) => {
        const now = Date.now();
        // query(), not execute(): a prepared statement per batch size would pile up on the server.
        await conn.query(`INSERT INTO players (id, data, version, fence, updated_at) VALUES ${sorted.map(() => "(?, 'null', 0, 1, ?)").join(', ')} ON DUPLICATE KEY UPDATE fence = fence + 1`, sorted.flatMap((id) => [id, now]));
        const [rows] = await conn.query<RowDataPacket[]>(`SELECT id, data, version, fence, updated_at FROM players WHERE id IN (${marks})`, sorted);
        const [timers] = await conn.query<RowDataPacket[]>(`SELECT owner_id, name, due_at, timer_id, payload FROM timers WHERE owner_id IN (${marks}) ORDER BY owner_id, due_at, name`, sorted.map((id) => timerOwner('player', id)));
        const [scenes] = await conn.query<RowDataPacket[]>(`SELECT player_id, scene_id FROM player_scenes WHERE player_id IN (${marks})`, sorted);
        return { rows, timers, scenes };
      });
      const sceneOf = new Map(claimed.scenes.map((r) => [String(r.player_id), String(r.scene_id)]));
      const byId = new Map(claimed.rows.map((r) => [String(r.id), r]));
      const timersOf = new Map<string, TimerRecord[]>();
      for (const t of claimed.timers) {
        const owner = String(t.owner_id);
        let list = timersOf.get(owner);
        if (list === undefined) timersOf.set(owner, (list = []));
        list.push({ name: String(t.name), dueAt: Number(t.due_at), id: String(t.timer_id), payload: String(t.payload) });
      }
      return ids.map((id): ClaimedPlayer => {
        const row = byId.get(id)!;
        const version = Number(row.version);
        return {
          playerId: id,
          sceneId: sceneOf.get(id) ?? null,
          record: version === 0 ? null : { id, data: decodeData(String(row.data)), version, updatedAt: Number(row.updated_at) },
          fence: Number(row.fence),
          timers: timersOf.get(timerOwner('player', id)) ?? [],
        };
      });
    });
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
      const prepared = entries.map((entry): PreparedEntry => {
        try {
          const e = checkObject('saveBatch entry', entry);
          if (!isRecordKind(e.kind)) throw invalid("saveBatch entry kind must be 'player' or 'scene'");
          const sceneId = e.kind === 'player' ? checkSceneRef(e.sceneId) : undefined;
          const timers = checkTimerChanges(e.kind, e.timers);
          const shared = checkSharedChanges(e.kind, e.shared);
          const mailClaims = checkMailClaims(e.kind, e.mailClaims);
          return { kind: e.kind, id: checkId(e.kind, e.id), json: encodeData(e.data), expected: checkVersion(e.expectedVersion), fence: checkFence(e.fence), sceneId, timers, shared, mailClaims };
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
      return this.#transaction(pool, (conn) => writeBatch(conn, prepared, order, now));
    });
  }

  loadTimers(ownerId: string): Promise<TimerRecord[]> {
    return this.#run(async (pool) => {
      const id = checkId('scene', ownerId);
      const [rows] = await pool.execute<RowDataPacket[]>('SELECT name, due_at, timer_id, payload FROM timers WHERE owner_id = ? ORDER BY due_at, name', [id]);
      return rows.map((r) => ({ name: String(r.name), dueAt: Number(r.due_at), id: String(r.timer_id), payload: String(r.payload) }));
    });
  }

  dueTimers(until: number, limit: number): Promise<DueOwner[]> {
    return this.#run(async (pool) => {
      const at = checkTime('until', until);
      const n = checkLimit(limit);
      // LIMIT takes no placeholder under execute() in every server version: n is a checked integer.
      const [rows] = await pool.execute<RowDataPacket[]>(`SELECT owner_id, MIN(due_at) AS due_at FROM timers WHERE due_at <= ? AND owner_id NOT LIKE '@%' GROUP BY owner_id ORDER BY due_at, owner_id LIMIT ${n}`, [at]);
      return rows.map((r) => ({ ownerId: String(r.owner_id), dueAt: Number(r.due_at) }));
    });
  }

  loadShared(table: string, afterVersion: number, limit: number): Promise<SharedRow[]> {
    return this.#run(async (pool) => {
      const name = checkId('scene', table);
      const after = checkTime('afterVersion', afterVersion);
      const n = checkLimit(limit);
      // LIMIT takes no placeholder under execute() in every server version: n is a checked integer.
      const [rows] = await pool.execute<RowDataPacket[]>(`SELECT row_key, value, version FROM shared_data WHERE table_name = ? AND version > ? ORDER BY version LIMIT ${n}`, [name, after]);
      return rows.map((r) => ({ key: String(r.row_key), value: r.value === null ? null : String(r.value), version: Number(r.version) }));
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
        throw mapMysqlError(err, this.#o.target);
      }),
    );
  }
}
