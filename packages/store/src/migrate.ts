import { checkObject, invalid } from './common.js';
import { MIGRATIONS } from './migrations.js';
import { applyMigrations, readStatus, type MigrationReport, type MigrationState } from './migrator.js';
import { withMysqlMigrations } from './mysql-migrations.js';
import { withSqliteMigrations } from './sqlite-migrations.js';
import type { StoreConfig } from './types.js';

function checkConfig(config: StoreConfig): StoreConfig {
  const c = checkObject('store config', config);
  if (c.kind !== 'sqlite' && c.kind !== 'mysql') throw invalid("store config.kind must be 'sqlite' or 'mysql'");
  return config;
}

/**
 * Apply every pending migration to the database `config` names, then disconnect. Running it
 * again is a no-op (an empty `applied`). Safe to run from several processes at once.
 * @throws STO_ERR_CONNECTION, STO_ERR_MIGRATION, OPT_ERR_INVALID
 */
export async function runMigrations(config: StoreConfig): Promise<MigrationReport> {
  const c = checkConfig(config);
  if (c.kind === 'sqlite') {
    const { kind: _kind, ...options } = c;
    return withSqliteMigrations(options, false, (driver, logger) => applyMigrations(driver, MIGRATIONS, logger));
  }
  const { kind: _kind, ...options } = c;
  return withMysqlMigrations(options, (driver, logger) => applyMigrations(driver, MIGRATIONS, logger));
}

/**
 * Where each migration stands in the database `config` names. Changes nothing (a SQLite file
 * that does not exist is not created: every migration reads as pending).
 * @throws STO_ERR_CONNECTION, OPT_ERR_INVALID
 */
export async function getMigrationStatus(config: StoreConfig): Promise<MigrationState[]> {
  const c = checkConfig(config);
  if (c.kind === 'sqlite') {
    const { kind: _kind, ...options } = c;
    return withSqliteMigrations(options, true, (driver) => readStatus(driver, MIGRATIONS));
  }
  const { kind: _kind, ...options } = c;
  return withMysqlMigrations(options, (driver) => readStatus(driver, MIGRATIONS));
}
