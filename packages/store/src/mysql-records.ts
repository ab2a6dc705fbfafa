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

/** One row of a batch written by {@link updateRows}: it exists already (`expected` > 0). */
export interface RowWrite {
  readonly id: string;
  readonly json: string;
  readonly expected: number;
  readonly fence: number | undefined;
}

/** Rows one {@link updateRows} statement writes at most. */
export const ROWS_PER_STATEMENT = 200;

/**
 * Bytes of row data one {@link updateRows} statement carries at most: far under the server's
 * `max_allowed_packet` (16 MiB on MariaDB, 64 MiB on MySQL 8), which each row alone may reach
 * (docs/storage.md): a row past this is written alone, as before.
 */
export const BYTES_PER_STATEMENT = 1024 * 1024;

/**
 * Write rows of one table that each exist already, with distinct ids, in one statement instead
 * of a round trip each: each row's version (and fence, when given) is checked in the WHERE, and
 * every row must match (mysql2 sets CLIENT_FOUND_ROWS, so affectedRows counts matched rows).
 * Issued with query(), not execute(): its text changes with the number of rows, and a prepared
 * statement per size would fill the server's statement cache.
 * @returns whether every row was written; when not, the caller rolls the statement back (to a
 *   savepoint) and writes the rows one by one, which tells which were stale or fenced.
 */
export async function updateRows(q: Queryable, kind: RecordKind, rows: readonly RowWrite[], now: number): Promise<boolean> {
  const params: unknown[] = [];
  let data = '';
  for (const r of rows) {
    data += ' WHEN ? THEN ?';
    params.push(r.id, r.json);
  }
  params.push(now);
  for (const r of rows) params.push(r.id);
  let match = '';
  for (const r of rows) {
    if (r.fence === undefined) {
      match += ' WHEN ? THEN version = ?';
      params.push(r.id, r.expected);
    } else {
      match += ' WHEN ? THEN version = ? AND fence = ?';
      params.push(r.id, r.expected, r.fence);
    }
  }
  const ids = rows.map(() => '?').join(', ');
  const [res] = await q.query<ResultSetHeader>(
    `UPDATE ${TABLE_OF[kind]} SET data = CASE id${data} END, version = version + 1, updated_at = ? WHERE id IN (${ids}) AND CASE id${match} ELSE FALSE END`,
    params,
  );
  return res.affectedRows === rows.length;
}

/** Record the scene of each player (`player_scenes`), in one statement. */
export async function recordPlayerScenes(q: Queryable, rows: ReadonlyArray<{ readonly id: string; readonly sceneId: string }>, now: number): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    'INSERT INTO player_scenes (player_id, scene_id, updated_at) VALUES ? ON DUPLICATE KEY UPDATE scene_id = VALUES(scene_id), updated_at = VALUES(updated_at)',
    [rows.map((r) => [r.id, r.sceneId, now])],
  );
}
