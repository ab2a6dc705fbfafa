/**
 * One numbered schema change, written once per dialect. Never edit a migration that has
 * shipped: its checksum is recorded when applied and a changed one stops `start()`. Add a new
 * one with the next version instead.
 *
 * MySQL commits DDL implicitly, so a MySQL migration cannot be rolled back half-way: write its
 * statements so that re-running them after a crash is harmless (`CREATE … IF NOT EXISTS`; a
 * plain `ADD COLUMN` or `ADD INDEX` too, since the MySQL driver counts "duplicate column" and
 * "duplicate key name" as already done). Prefer statements MySQL 8 and MariaDB both accept.
 * SQLite runs each migration in one real transaction.
 */
export interface Migration {
  /** 1, 2, 3… with no gaps; the order migrations are applied in. */
  readonly version: number;
  /** snake_case summary, shown by `npm run migrate -- --status`. */
  readonly name: string;
  readonly mysql: readonly string[];
  readonly sqlite: readonly string[];
}

// Binary key columns (VARBINARY / utf8mb4_bin) compare byte for byte in MySQL, as TEXT does in
// SQLite, so ids are case-sensitive and 'a' ≠ 'a ' in both. Case-insensitive username
// uniqueness comes from `username_key` (lower-cased by the store), not from a collation.
const MYSQL_TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

function mysqlVersioned(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  id VARBINARY(1020) NOT NULL,
  data LONGTEXT NOT NULL,
  version BIGINT UNSIGNED NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (id)
) ${MYSQL_TABLE}`;
}

function sqliteVersioned(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  id TEXT NOT NULL PRIMARY KEY,
  data TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT`;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  Object.freeze({
    version: 1,
    name: 'create_accounts',
    mysql: Object.freeze([
      `CREATE TABLE IF NOT EXISTS accounts (
  account_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  username VARCHAR(255) NOT NULL,
  username_key VARBINARY(1020) NOT NULL,
  password_hash TEXT NOT NULL,
  guest TINYINT(1) NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (account_id),
  UNIQUE KEY accounts_username_key (username_key)
) ${MYSQL_TABLE}`,
    ]),
    sqlite: Object.freeze([
      `CREATE TABLE IF NOT EXISTS accounts (
  account_id TEXT NOT NULL PRIMARY KEY,
  username TEXT NOT NULL,
  username_key TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  guest INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
) STRICT`,
      'CREATE UNIQUE INDEX IF NOT EXISTS accounts_username_key ON accounts (username_key)',
    ]),
  }),
  Object.freeze({
    version: 2,
    name: 'create_players_and_scenes',
    mysql: Object.freeze([mysqlVersioned('players'), mysqlVersioned('scenes')]),
    sqlite: Object.freeze([sqliteVersioned('players'), sqliteVersioned('scenes')]),
  }),
  Object.freeze({
    version: 3,
    name: 'add_fencing_tokens',
    // IF NOT EXISTS (MariaDB) makes a re-run after a half-applied migration harmless.
    mysql: Object.freeze([
      'ALTER TABLE players ADD COLUMN IF NOT EXISTS fence BIGINT UNSIGNED NOT NULL DEFAULT 0',
      'ALTER TABLE scenes ADD COLUMN IF NOT EXISTS fence BIGINT UNSIGNED NOT NULL DEFAULT 0',
    ]),
    sqlite: Object.freeze(['ALTER TABLE players ADD COLUMN fence INTEGER NOT NULL DEFAULT 0', 'ALTER TABLE scenes ADD COLUMN fence INTEGER NOT NULL DEFAULT 0']),
  }),
  Object.freeze({
    version: 4,
    name: 'add_account_groups',
    // Plain ADD COLUMN, which MySQL 8 and MariaDB both accept (MySQL has no ADD COLUMN IF NOT
    // EXISTS); the MySQL driver treats "duplicate column" as done, so a re-run is harmless.
    mysql: Object.freeze(['ALTER TABLE accounts ADD COLUMN group_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL DEFAULT NULL']),
    sqlite: Object.freeze(['ALTER TABLE accounts ADD COLUMN group_id TEXT']),
  }),
  Object.freeze({
    version: 5,
    name: 'create_player_scenes',
    // The scene each player was last saved in, written in the same transaction as its row.
    mysql: Object.freeze([
      `CREATE TABLE IF NOT EXISTS player_scenes (
  player_id VARBINARY(1020) NOT NULL,
  scene_id VARBINARY(1020) NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (player_id)
) ${MYSQL_TABLE}`,
    ]),
    sqlite: Object.freeze([
      `CREATE TABLE IF NOT EXISTS player_scenes (
  player_id TEXT NOT NULL PRIMARY KEY,
  scene_id TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT`,
    ]),
  }),
  Object.freeze({
    version: 6,
    name: 'create_timers',
    // Durable timers of scenes and services, written with their owner's row (SaveEntry.timers).
    mysql: Object.freeze([
      `CREATE TABLE IF NOT EXISTS timers (
  owner_id VARBINARY(1020) NOT NULL,
  name VARBINARY(1020) NOT NULL,
  due_at BIGINT NOT NULL,
  timer_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payload LONGTEXT NOT NULL,
  PRIMARY KEY (owner_id, name),
  KEY timers_due (due_at, owner_id)
) ${MYSQL_TABLE}`,
    ]),
    sqlite: Object.freeze([
      `CREATE TABLE IF NOT EXISTS timers (
  owner_id TEXT NOT NULL,
  name TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  timer_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (owner_id, name)
) STRICT`,
      'CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at, owner_id)',
    ]),
  }),
  Object.freeze({
    version: 7,
    name: 'create_shared_data',
    // Shared world data: tables written by their owning service (with its save), read by every engine.
    mysql: Object.freeze([
      `CREATE TABLE IF NOT EXISTS shared_data (
  table_name VARBINARY(1020) NOT NULL,
  row_key VARBINARY(1020) NOT NULL,
  value LONGTEXT NULL,
  version BIGINT NOT NULL,
  PRIMARY KEY (table_name, row_key),
  KEY shared_data_version (table_name, version)
) ${MYSQL_TABLE}`,
    ]),
    sqlite: Object.freeze([
      `CREATE TABLE IF NOT EXISTS shared_data (
  table_name TEXT NOT NULL,
  row_key TEXT NOT NULL,
  value TEXT,
  version INTEGER NOT NULL,
  PRIMARY KEY (table_name, row_key)
) STRICT`,
      'CREATE INDEX IF NOT EXISTS shared_data_version ON shared_data (table_name, version)',
    ]),
  }),
  Object.freeze({
    version: 8,
    name: 'create_leaderboard_archive',
    // Closing standings of ended leaderboard periods, and the periods recorded complete
    // (LeaderboardArchive). Board names are ASCII (64 bytes); member ids 128 characters × 4 bytes.
    // `rank` is a reserved word in MySQL 8 (a window function): always quoted there.
    mysql: Object.freeze([
      `CREATE TABLE IF NOT EXISTS leaderboard_standings (
  board VARBINARY(64) NOT NULL,
  period_start BIGINT NOT NULL,
  \`rank\` BIGINT NOT NULL,
  member_id VARBINARY(512) NOT NULL,
  score DOUBLE NOT NULL,
  data LONGTEXT NULL,
  PRIMARY KEY (board, period_start, \`rank\`),
  KEY leaderboard_standings_member (board, period_start, member_id)
) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS leaderboard_periods (
  board VARBINARY(64) NOT NULL,
  period_start BIGINT NOT NULL,
  period_end BIGINT NOT NULL,
  members BIGINT NOT NULL,
  archived_at BIGINT NOT NULL,
  PRIMARY KEY (board, period_start)
) ${MYSQL_TABLE}`,
    ]),
    sqlite: Object.freeze([
      `CREATE TABLE IF NOT EXISTS leaderboard_standings (
  board TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  member_id TEXT NOT NULL,
  score REAL NOT NULL,
  data TEXT,
  PRIMARY KEY (board, period_start, rank)
) STRICT`,
      'CREATE INDEX IF NOT EXISTS leaderboard_standings_member ON leaderboard_standings (board, period_start, member_id)',
      `CREATE TABLE IF NOT EXISTS leaderboard_periods (
  board TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  period_end INTEGER NOT NULL,
  members INTEGER NOT NULL,
  archived_at INTEGER NOT NULL,
  PRIMARY KEY (board, period_start)
) STRICT`,
    ]),
  }),
  Object.freeze({
    version: 9,
    name: 'create_player_logs',
    // Players' structured events (PlayerLogStore): read by player and time, pruned by time.
    // Event names are ASCII (64 bytes); player and scene ids 255 characters × 4 bytes.
    mysql: Object.freeze([
      `CREATE TABLE IF NOT EXISTS player_logs (
  id BIGINT NOT NULL AUTO_INCREMENT,
  player_id VARBINARY(1020) NOT NULL,
  at BIGINT NOT NULL,
  event VARBINARY(64) NOT NULL,
  scene_id VARBINARY(1020) NOT NULL,
  fields LONGTEXT NOT NULL,
  PRIMARY KEY (id),
  KEY player_logs_player (player_id, at, id),
  KEY player_logs_at (at)
) ${MYSQL_TABLE}`,
    ]),
    sqlite: Object.freeze([
      `CREATE TABLE IF NOT EXISTS player_logs (
  id INTEGER PRIMARY KEY,
  player_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  scene_id TEXT NOT NULL,
  fields TEXT NOT NULL
) STRICT`,
      'CREATE INDEX IF NOT EXISTS player_logs_player ON player_logs (player_id, at, id)',
      'CREATE INDEX IF NOT EXISTS player_logs_at ON player_logs (at)',
    ]),
  }),
  Object.freeze({
    version: 10,
    name: 'create_config_bundles',
    // Every published config bundle (ConfigBundleStore); the highest seq is the one in force.
    // AUTOINCREMENT in SQLite, so a seq is never reused even if the latest row were deleted.
    mysql: Object.freeze([
      `CREATE TABLE IF NOT EXISTS config_bundles (
  seq BIGINT NOT NULL AUTO_INCREMENT,
  version VARBINARY(64) NOT NULL,
  published_at BIGINT NOT NULL,
  content LONGTEXT NOT NULL,
  PRIMARY KEY (seq)
) ${MYSQL_TABLE}`,
    ]),
    sqlite: Object.freeze([
      `CREATE TABLE IF NOT EXISTS config_bundles (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  version TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  content TEXT NOT NULL
) STRICT`,
    ]),
  }),
  Object.freeze({
    version: 11,
    name: 'create_mail',
    // Players' mailboxes (MailStore): a mail is stored once, however many it goes to. A mail to
    // players has a mark row per recipient from the start (the row makes it the player's); a
    // mail to everyone (broadcast = 1) gets a player's mark row only when that player reads,
    // claims or deletes it. A player's direct mail is read through the marks' primary key, mail
    // to everyone through `mail_broadcast`, both newest first; `mail_expiry` serves pruning and
    // `mail_marks_mail` removes a pruned mail's marks. Ids are never reused (AUTOINCREMENT in
    // SQLite; InnoDB keeps its counter across restarts), so `before` pages stay stable.
    // Sender and subject are at most 64 and 200 characters; body (4,000 characters) and
    // attachments (16,384 bytes) fit a TEXT column.
    mysql: Object.freeze([
      `CREATE TABLE IF NOT EXISTS mail (
  id BIGINT NOT NULL AUTO_INCREMENT,
  broadcast TINYINT(1) NOT NULL,
  sender VARCHAR(64) NOT NULL,
  subject VARCHAR(200) NOT NULL,
  body TEXT NOT NULL,
  attachments TEXT NULL,
  sent_at BIGINT NOT NULL,
  expires_at BIGINT NULL,
  PRIMARY KEY (id),
  KEY mail_broadcast (broadcast, id),
  KEY mail_expiry (expires_at)
) ${MYSQL_TABLE}`,
      `CREATE TABLE IF NOT EXISTS mail_marks (
  player_id VARBINARY(1020) NOT NULL,
  mail_id BIGINT NOT NULL,
  read_at BIGINT NULL,
  claimed_at BIGINT NULL,
  deleted_at BIGINT NULL,
  PRIMARY KEY (player_id, mail_id),
  KEY mail_marks_mail (mail_id)
) ${MYSQL_TABLE}`,
    ]),
    sqlite: Object.freeze([
      `CREATE TABLE IF NOT EXISTS mail (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  broadcast INTEGER NOT NULL,
  sender TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  attachments TEXT,
  sent_at INTEGER NOT NULL,
  expires_at INTEGER
) STRICT`,
      'CREATE INDEX IF NOT EXISTS mail_broadcast ON mail (broadcast, id)',
      'CREATE INDEX IF NOT EXISTS mail_expiry ON mail (expires_at)',
      `CREATE TABLE IF NOT EXISTS mail_marks (
  player_id TEXT NOT NULL,
  mail_id INTEGER NOT NULL,
  read_at INTEGER,
  claimed_at INTEGER,
  deleted_at INTEGER,
  PRIMARY KEY (player_id, mail_id)
) STRICT, WITHOUT ROWID`,
      'CREATE INDEX IF NOT EXISTS mail_marks_mail ON mail_marks (mail_id)',
    ]),
  }),
]);
