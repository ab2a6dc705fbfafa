import type { Pool, RowDataPacket } from 'mysql2/promise';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import { LEDGER_DDL, type AppliedMigration, type MigrationDriver } from './migrator.js';
import { resolveMysqlOptions, type ResolvedMysqlOptions } from './mysql-options.js';
import { errnoOf, mapMysqlError, openPool, ping, type Queryable } from './mysql-pool.js';
import type { MysqlStoreOptions } from './types.js';

/** What a migration's `ADD COLUMN` / `ADD INDEX` raises when a crashed earlier run already added it. */
const ER_DUP_FIELDNAME = 1060;
const ER_DUP_KEYNAME = 1061;

async function readLedger(q: Queryable): Promise<AppliedMigration[]> {
  const [tables] = await q.execute<RowDataPacket[]>(
    'SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?',
    ['schema_migrations'],
  );
  if (tables.length === 0) return [];
  const [rows] = await q.execute<RowDataPacket[]>('SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version');
  return rows.map((r) => ({ version: Number(r.version), name: String(r.name), checksum: String(r.checksum), appliedAt: Number(r.applied_at) }));
}

export function mysqlMigrationDriver(pool: Pool, o: ResolvedMysqlOptions): MigrationDriver {
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
  const o = resolveMysqlOptions({ ...options, poolSize: 2 });
  const pool = openPool(o);
  try {
    await ping(pool, o.target, 1);
    return await fn(mysqlMigrationDriver(pool, o), o.logger);
  } catch (err) {
    throw mapMysqlError(err, o.target);
  } finally {
    await pool.end().catch(() => {});
  }
}
