import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CodedError, ErrorCodes } from '@gos/schema';
import { isMemory, type ResolvedSqliteOptions } from './sqlite-options.js';

export type Db = Database.Database;

// Failures of the file or its locks rather than of one statement.
const SQLITE_CONNECTION_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|NOTADB|CORRUPT|PERM)/;

/** Errors of the file or its locks become STO_ERR_CONNECTION; the rest pass through. */
export function mapSqliteError(err: unknown): unknown {
  if (err instanceof CodedError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SQLITE_CONNECTION_CODES.test(code)) {
    return new CodedError(ErrorCodes.STO_ERR_CONNECTION, `sqlite: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

/** Open (creating parent directories) and configure a database file. */
export function openDb(o: ResolvedSqliteOptions, readonly: boolean): Db {
  try {
    if (!readonly && !isMemory(o.file)) mkdirSync(dirname(resolve(o.file)), { recursive: true });
    const db = new Database(o.file, { timeout: o.busyTimeoutMs, readonly, fileMustExist: readonly });
    try {
      if (!readonly) {
        // WAL: readers never block the writer; NORMAL sync is durable across process crashes
        // (a power cut may lose the last commits, see docs/storage.md).
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  } catch (err) {
    throw new CodedError(ErrorCodes.STO_ERR_CONNECTION, `cannot open sqlite database ${o.file}: ${(err as Error).message}`, { cause: err });
  }
}
