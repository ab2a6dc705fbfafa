export type {
  AccountRecord,
  NewAccount,
  RecordKind,
  VersionedRecord,
  SaveEntry,
  ClaimedRecord,
  ClaimedPlayer,
  SaveResult,
  Store,
  SqliteStoreOptions,
  MysqlStoreOptions,
  StoreConfig,
  TimerRecord,
  TimerChanges,
  DueOwner,
  SharedRow,
  SharedChanges,
} from './types.js';
export type {
  ArchivedStanding,
  ArchivedPeriod,
  LeaderboardArchive,
  PlayerLogEntry,
  StoredPlayerLog,
  PlayerLogQuery,
  PlayerLogStore,
  PublishedConfig,
  ConfigBundleStore,
  NewMail,
  MailRecipients,
  MailItem,
  MailQuery,
  MailStore,
} from './service-types.js';
export { MAX_CLAIM_BATCH } from './types.js';
export { SqliteStore } from './sqlite-store.js';
export { MysqlStore } from './mysql-store.js';
export { createStore } from './factory.js';
export { isGroupId, MAX_TIMER_CHANGES } from './common.js';
export { MIGRATIONS } from './migrations.js';
export type { Migration } from './migrations.js';
export { runMigrations, getMigrationStatus } from './migrate.js';
export type { MigrationReport, MigrationState, MigrationStateKind } from './migrator.js';
