import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { TABLE_OF, saveConflict } from './common.js';
import { ER_DUP_ENTRY, errnoOf, type Queryable } from './mysql-pool.js';
import type { AccountRecord, RecordKind } from './types.js';

export const ACCOUNT_COLUMNS = 'account_id, username, password_hash, guest, created_at, group_id';

/** mysql2 rows are untyped: every column is converted explicitly. */
export function toAccount(row: RowDataPacket): AccountRecord {
  return {
    accountId: String(row.account_id),
    username: String(row.username),
    passwordHash: String(row.password_hash),
    createdAt: Number(row.created_at),
    guest: Number(row.guest) !== 0,
    groupId: row.group_id === null ? null : String(row.group_id),
  };
}

/**
 * Write one versioned row if it is at `expected` (and, given a fence, still holds it).
 * @returns the new version. @throws STO_ERR_STALE_VERSION, STO_ERR_FENCED
 */
export async function save(q: Queryable, kind: RecordKind, id: string, json: string, expected: number, fence: number | undefined, now: number): Promise<number> {
  const table = TABLE_OF[kind];
  if (expected === 0) {
    try {
      await q.execute(`INSERT INTO ${table} (id, data, version, fence, updated_at) VALUES (?, ?, 1, ?, ?)`, [id, json, fence ?? 0, now]);
      return 1;
    } catch (err) {
      if (errnoOf(err) !== ER_DUP_ENTRY) throw err;
      // The row exists: reserved by a claim (version 0, updated below) or written by someone else.
    }
  }
  // mysql2 sets CLIENT_FOUND_ROWS, so affectedRows counts the matched row. The fence parameter
  // is given twice: NULL skips the check.
  const f = fence ?? null;
  const [res] = await q.execute<ResultSetHeader>(
    `UPDATE ${table} SET data = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? AND (? IS NULL OR fence = ?)`,
    [json, expected + 1, now, id, expected, f, f],
  );
  if (res.affectedRows === 1) return expected + 1;
  const [rows] = await q.execute<RowDataPacket[]>(`SELECT version, fence FROM ${table} WHERE id = ?`, [id]);
  const row = rows[0];
  throw saveConflict(kind, id, expected, fence, row === undefined ? undefined : { version: Number(row.version), fence: Number(row.fence) });
}
