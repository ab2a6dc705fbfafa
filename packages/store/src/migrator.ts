import { createHash } from 'node:crypto';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import type { Migration } from './migrations.js';

export type Dialect = 'mysql' | 'sqlite';

/** A row of the `schema_migrations` ledger. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly appliedAt: number;
}

/**
 * Where a migration stands in one database:
 * - `applied`: recorded in `schema_migrations` with the checksum the code has;
 * - `pending`: not applied yet;
 * - `changed`: applied, but its SQL was edited since (the database is not what the code expects);
 * - `unknown`: applied by a newer release this code does not know (a rolling deploy, or a downgrade).
 */
export type MigrationStateKind = 'applied' | 'pending' | 'changed' | 'unknown';

export interface MigrationState {
  readonly version: number;
  readonly name: string;
  readonly state: MigrationStateKind;
  /** When it was applied (ms since the epoch), or null when pending. */
  readonly appliedAt: number | null;
}

/** What a migration run did. */
export interface MigrationReport {
  /** Migrations this run applied (empty when the schema was already current). */
  readonly applied: readonly MigrationState[];
  /** Every migration afterwards, known and unknown, by version. */
  readonly status: readonly MigrationState[];
}

/** The ledger's own DDL; not a migration, since it has to exist before the first one is recorded. */
export const LEDGER_DDL: Readonly<Record<Dialect, string>> = Object.freeze({
  mysql: `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INT NOT NULL,
  name VARCHAR(255) NOT NULL,
  checksum CHAR(64) CHARACTER SET ascii NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (version)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`,
});

/** Work done while holding the migration lock of one database. */
export interface MigrationSession {
  readApplied(): Promise<AppliedMigration[]>;
  /** Run the statements and record the ledger row; false when someone else applied it first. */
  apply(migration: Migration, checksum: string, appliedAt: number): Promise<boolean>;
}

/** What each dialect provides to the migrator. */
export interface MigrationDriver {
  readonly dialect: Dialect;
  /** Ledger rows; [] when the ledger does not exist. Creates nothing. */
  readApplied(): Promise<AppliedMigration[]>;
  /** Create the ledger if missing and run `fn` so that no other migrator runs at the same time. */
  exclusive<T>(fn: (session: MigrationSession) => Promise<T>): Promise<T>;
}

export function checksumOf(migration: Migration, dialect: Dialect): string {
  return createHash('sha256').update(JSON.stringify(migration[dialect])).digest('hex');
}

function checkList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new CodedError(ErrorCodes.STO_ERR_MIGRATION, `migration #${i} has version ${m.version}; versions must be 1, 2, 3… in order`);
    }
  });
}

/** Merge the code's migrations with the ledger. */
export function statusOf(migrations: readonly Migration[], applied: readonly AppliedMigration[], dialect: Dialect): MigrationState[] {
  const byVersion = new Map(applied.map((a) => [a.version, a]));
  const out: MigrationState[] = migrations.map((m) => {
    const row = byVersion.get(m.version);
    byVersion.delete(m.version);
    if (row === undefined) return { version: m.version, name: m.name, state: 'pending', appliedAt: null };
    const state = row.checksum === checksumOf(m, dialect) ? 'applied' : 'changed';
    return { version: m.version, name: m.name, state, appliedAt: row.appliedAt };
  });
  for (const row of byVersion.values()) {
    out.push({ version: row.version, name: row.name, state: 'unknown', appliedAt: row.appliedAt });
  }
  return out.sort((a, b) => a.version - b.version);
}

function refuseChanged(status: readonly MigrationState[]): void {
  const changed = status.filter((s) => s.state === 'changed');
  if (changed.length > 0) {
    throw new CodedError(
      ErrorCodes.STO_ERR_MIGRATION,
      `applied migration(s) ${changed.map((s) => `${s.version} ${s.name}`).join(', ')} were edited after being applied; add a new migration instead`,
    );
  }
}

/**
 * Apply every pending migration in order, each on its own (SQLite: one transaction each), under
 * the database's migration lock. Running it again is a no-op.
 * @throws STO_ERR_MIGRATION when a migration fails (earlier ones stay applied) or an applied one was edited.
 */
export async function applyMigrations(driver: MigrationDriver, migrations: readonly Migration[], logger: Logger): Promise<MigrationReport> {
  checkList(migrations);
  return driver.exclusive(async (session) => {
    refuseChanged(statusOf(migrations, await session.readApplied(), driver.dialect));
    const before = new Set((await session.readApplied()).map((a) => a.version));
    const done = new Set<number>();
    for (const m of migrations) {
      if (before.has(m.version)) continue;
      try {
        if (await session.apply(m, checksumOf(m, driver.dialect), Date.now())) done.add(m.version);
      } catch (err) {
        throw new CodedError(
          ErrorCodes.STO_ERR_MIGRATION,
          `migration ${m.version} ${m.name} failed: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );
      }
      if (done.has(m.version)) logger.info({ version: m.version, name: m.name, dialect: driver.dialect }, 'migration applied');
    }
    const status = statusOf(migrations, await session.readApplied(), driver.dialect);
    return { applied: status.filter((s) => done.has(s.version)), status };
  });
}

export async function readStatus(driver: MigrationDriver, migrations: readonly Migration[]): Promise<MigrationState[]> {
  checkList(migrations);
  return statusOf(migrations, await driver.readApplied(), driver.dialect);
}

/**
 * Refuse to run on a schema that is behind or edited; warn about migrations from a newer release.
 * @throws STO_ERR_MIGRATION
 */
export function assertCurrent(status: readonly MigrationState[], logger: Logger): void {
  refuseChanged(status);
  const pending = status.filter((s) => s.state === 'pending');
  if (pending.length > 0) {
    throw new CodedError(
      ErrorCodes.STO_ERR_MIGRATION,
      `database schema is behind: pending migration(s) ${pending.map((s) => `${s.version} ${s.name}`).join(', ')}; ` +
        'run `npm run migrate -- --mysql-url <url>` or set autoMigrate',
    );
  }
  const unknown = status.filter((s) => s.state === 'unknown');
  if (unknown.length > 0) {
    logger.warn({ versions: unknown.map((s) => s.version) }, 'database has migrations this release does not know; continuing');
  }
}
