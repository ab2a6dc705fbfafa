import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Logger } from '@gos/schema';
import { LEDGER_DDL, type AppliedMigration, type MigrationDriver } from './migrator.js';
import { mapSqliteError, openDb, type Db } from './sqlite-db.js';
import { isMemory, resolveSqliteOptions } from './sqlite-options.js';
import type { SqliteStoreOptions } from './types.js';

export function sqliteMigrationDriver(db: Db): MigrationDriver {
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
  const o = resolveSqliteOptions(options);
  const missing = statusOnly && (isMemory(o.file) || !existsSync(o.file));
  const db = missing ? new Database(':memory:') : openDb(o, statusOnly);
  try {
    return await fn(sqliteMigrationDriver(db), o.logger);
  } catch (err) {
    throw mapSqliteError(err);
  } finally {
    db.close();
  }
}
