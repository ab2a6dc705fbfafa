import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import {
  checkClaimBatch,
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
  saveConflict,
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
import { applyMigrations, readStatus, type MigrationReport, type MigrationState } from './migrator.js';
import { mapSqliteError, openDb, type Db } from './sqlite-db.js';
import { SqliteLeaderboardArchive } from './sqlite-leaderboard-archive.js';
import { SqlitePlayerLogs } from './sqlite-player-logs.js';
import { SqliteConfigBundles } from './sqlite-config-bundles.js';
import { claimMail, SqliteMail } from './sqlite-mail.js';
import { checkMailClaims } from './mail-args.js';
import { sqliteMigrationDriver } from './sqlite-migrations.js';
import { resolveSqliteOptions, type ResolvedSqliteOptions } from './sqlite-options.js';
import { prepare, toAccount, type AccountRow, type Statements, type TimerRow, type VersionedRow } from './sqlite-statements.js';
import { MAX_CLAIM_BATCH } from './types.js';
import type { AccountRecord, ClaimedPlayer, ClaimedRecord, DueOwner, NewAccount, RecordKind, SaveEntry, SaveResult, SharedRow, SqliteStoreOptions, Store, TimerRecord, VersionedRecord } from './types.js';
import type { ConfigBundleStore, LeaderboardArchive, MailStore, PlayerLogStore } from './service-types.js';

/** Codes that refuse one entry of a `saveBatch` (the others are still written). */
const REFUSALS: ReadonlySet<string> = new Set([ErrorCodes.STO_ERR_STALE_VERSION, ErrorCodes.STO_ERR_FENCED, ErrorCodes.OPT_ERR_INVALID, ErrorCodes.MAIL_ERR_NOT_CLAIMABLE]);

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
  /** The archived standings of leaderboards, in this store's file. */
  readonly leaderboardArchive: LeaderboardArchive = new SqliteLeaderboardArchive((fn) => this.#run((db, s) => fn(db, s.archive)));
  /** Players' logged events, in this store's file. */
  readonly playerLogs: PlayerLogStore = new SqlitePlayerLogs((fn) => this.#run((db, s) => fn(db, s.playerLogs)));
  /** Published config bundles, in this store's file. */
  readonly configBundles: ConfigBundleStore = new SqliteConfigBundles((fn) => this.#run((db, s) => fn(db, s.configBundles)));
  /** Players' mailboxes, in this store's file. */
  readonly mail: MailStore = new SqliteMail((fn) => this.#run((db, s) => fn(db, s.mail)));

  /** @throws OPT_ERR_INVALID when an option is malformed. */
  constructor(options: SqliteStoreOptions) {
    this.#o = resolveSqliteOptions(options);
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
      const report = await applyMigrations(sqliteMigrationDriver(db), MIGRATIONS, this.#log);
      this.#stmts = prepare(db);
      this.#db = db;
      this.#log.info({ file: this.#o.file, applied: report.applied.length }, 'sqlite store started');
    } catch (err) {
      db.close();
      throw mapSqliteError(err);
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
    return this.#run((db) => readStatus(sqliteMigrationDriver(db), MIGRATIONS));
  }

  /** Apply pending migrations (already done by `start()`; useful when another process migrates). */
  async migrate(): Promise<MigrationReport> {
    return this.#run((db) => applyMigrations(sqliteMigrationDriver(db), MIGRATIONS, this.#log));
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

  async claimPlayers(playerIds: readonly string[]): Promise<ClaimedPlayer[]> {
    const ids = checkClaimBatch(playerIds, MAX_CLAIM_BATCH);
    return this.#run((db, s) =>
      db
        .transaction((): ClaimedPlayer[] =>
          ids.map((id): ClaimedPlayer => {
            const t = s.tables.player;
            t.claim.run(id, Date.now());
            const row = t.claimed.get(id) as VersionedRow & { fence: number };
            const timers = (s.loadTimers.all(timerOwner('player', id)) as TimerRow[]).map((r) => ({ name: r.name, dueAt: r.due_at, id: r.timer_id, payload: r.payload }));
            const scene = s.playerScene.get(id) as { scene_id: string } | undefined;
            return { playerId: id, sceneId: scene?.scene_id ?? null, record: row.version === 0 ? null : { id, data: decodeData(row.data), version: row.version, updatedAt: row.updated_at }, fence: row.fence, timers };
          }),
        )
        .immediate(),
    );
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
              const timers = checkTimerChanges(e.kind, e.timers);
              const shared = checkSharedChanges(e.kind, e.shared);
              const claims = checkMailClaims(e.kind, e.mailClaims);
              const json = encodeData(e.data);
              const expected = checkVersion(e.expectedVersion);
              const fence = checkFence(e.fence);
              const kind = e.kind;
              const write = (): number => {
                const version = this.#save(s, kind, id, json, expected, fence, now);
                if (claims !== undefined) claimMail(s.mail, id, claims, now);
                if (sceneId !== undefined) s.setPlayerScene.run(id, sceneId, now);
                if (timers !== undefined) {
                  const owner = timerOwner(kind, id);
                  for (const name of timers.delete) s.deleteTimer.run(owner, name);
                  for (const t of timers.set) s.setTimer.run(owner, t.name, t.dueAt, t.id, t.payload);
                }
                for (const c of shared ?? []) for (const r of c.rows) s.setShared.run(c.table, r.key, r.value, r.version);
                return version;
              };
              // An entry with claims is written in a savepoint (a nested transaction), so a claim
              // refused after the row was written takes the row back with it.
              return { ok: true, version: claims === undefined ? write() : db.transaction(write)() };
            } catch (err) {
              // A refused entry is its own business; anything else (I/O, locks) fails the batch.
              if (err instanceof CodedError && REFUSALS.has(err.code)) {
                return { ok: false, error: err.toData() };
              }
              throw err;
            }
          }),
        )
        .immediate(),
    );
  }

  async loadTimers(ownerId: string): Promise<TimerRecord[]> {
    const id = checkId('scene', ownerId);
    return this.#run((_db, s) => (s.loadTimers.all(id) as TimerRow[]).map((r) => ({ name: r.name, dueAt: r.due_at, id: r.timer_id, payload: r.payload })));
  }

  async dueTimers(until: number, limit: number): Promise<DueOwner[]> {
    const at = checkTime('until', until);
    const n = checkLimit(limit);
    return this.#run((_db, s) => (s.dueTimers.all(at, n) as Array<{ owner_id: string; due_at: number }>).map((r) => ({ ownerId: r.owner_id, dueAt: r.due_at })));
  }

  async loadShared(table: string, afterVersion: number, limit: number): Promise<SharedRow[]> {
    const name = checkId('scene', table);
    const after = checkTime('afterVersion', afterVersion);
    const n = checkLimit(limit);
    return this.#run((_db, s) => (s.loadShared.all(name, after, n) as Array<{ row_key: string; value: string | null; version: number }>).map((r) => ({ key: r.row_key, value: r.value, version: r.version })));
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
    throw saveConflict(kind, id, expected, fence, t.state.get(id) as { version: number; fence: number } | undefined);
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
      throw mapSqliteError(err);
    }
  }
}
