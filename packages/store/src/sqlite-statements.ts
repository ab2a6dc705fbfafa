import type Database from 'better-sqlite3';
import { TABLE_OF } from './common.js';
import type { Db } from './sqlite-db.js';
import { prepareArchive, type ArchiveStatements } from './sqlite-leaderboard-archive.js';
import { preparePlayerLogs, type PlayerLogStatements } from './sqlite-player-logs.js';
import { prepareConfigBundles, type ConfigBundleStatements } from './sqlite-config-bundles.js';
import { prepareMail, type MailStatements } from './sqlite-mail.js';
import type { AccountRecord, RecordKind } from './types.js';

export interface AccountRow {
  account_id: string;
  username: string;
  password_hash: string;
  guest: number;
  created_at: number;
  group_id: string | null;
}

export interface VersionedRow {
  data: string;
  version: number;
  updated_at: number;
}

export function toAccount(row: AccountRow): AccountRecord {
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

export interface Statements {
  readonly insertAccount: Stmt;
  readonly accountByKey: Stmt;
  readonly accountById: Stmt;
  readonly setGroup: Stmt;
  readonly setPlayerScene: Stmt;
  readonly playerScene: Stmt;
  readonly setTimer: Stmt;
  readonly deleteTimer: Stmt;
  readonly loadTimers: Stmt;
  readonly dueTimers: Stmt;
  readonly setShared: Stmt;
  readonly loadShared: Stmt;
  readonly tables: Readonly<Record<RecordKind, TableStatements>>;
  readonly archive: ArchiveStatements;
  readonly playerLogs: PlayerLogStatements;
  readonly configBundles: ConfigBundleStatements;
  readonly mail: MailStatements;
}

/** Every statement the store runs, prepared once at start rather than parsed per call. */
export function prepare(db: Db): Statements {
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
    setTimer: db.prepare(
      'INSERT INTO timers (owner_id, name, due_at, timer_id, payload) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (owner_id, name) DO UPDATE SET due_at = excluded.due_at, timer_id = excluded.timer_id, payload = excluded.payload',
    ),
    deleteTimer: db.prepare('DELETE FROM timers WHERE owner_id = ? AND name = ?'),
    loadTimers: db.prepare('SELECT name, due_at, timer_id, payload FROM timers WHERE owner_id = ? ORDER BY due_at, name'),
    setShared: db.prepare(
      'INSERT INTO shared_data (table_name, row_key, value, version) VALUES (?, ?, ?, ?) ' +
        'ON CONFLICT (table_name, row_key) DO UPDATE SET value = excluded.value, version = excluded.version WHERE excluded.version > shared_data.version',
    ),
    loadShared: db.prepare('SELECT row_key, value, version FROM shared_data WHERE table_name = ? AND version > ? ORDER BY version LIMIT ?'),
    // Players' timers (owner `@<id>`) fire when their player is in a scene: never listed as due.
    dueTimers: db.prepare("SELECT owner_id, MIN(due_at) AS due_at FROM timers WHERE due_at <= ? AND owner_id NOT LIKE '@%' GROUP BY owner_id ORDER BY due_at, owner_id LIMIT ?"),
    tables: { player: table(TABLE_OF.player), scene: table(TABLE_OF.scene) },
    archive: prepareArchive(db),
    playerLogs: preparePlayerLogs(db),
    configBundles: prepareConfigBundles(db),
    mail: prepareMail(db),
  };
}

export interface TimerRow {
  name: string;
  due_at: number;
  timer_id: string;
  payload: string;
}
