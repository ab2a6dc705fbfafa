/**
 * {@link PlayerLogStore} on MySQL/MariaDB: `player_logs` (migration 9), through the pool and the
 * transactions of the `MysqlStore` that owns it.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { checkTime } from './common.js';
import type { MysqlAccess } from './mysql-leaderboard-archive.js';
import { byteChunks } from './mysql-owner-writes.js';
import { checkLogEntries, checkLogQuery, checkPruneLimit } from './player-log-args.js';
import type { PlayerLogEntry, PlayerLogQuery, PlayerLogStore, StoredPlayerLog } from './service-types.js';

/** Rows one `append` statement carries at most (fewer when their text is large). */
const LOGS_PER_STATEMENT = 1000;

export class MysqlPlayerLogs implements PlayerLogStore {
  readonly #db: MysqlAccess;

  constructor(db: MysqlAccess) {
    this.#db = db;
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  append(entries: readonly PlayerLogEntry[]): Promise<void> {
    return this.#db.run(async (pool) => {
      const checked = checkLogEntries(entries);
      await this.#db.transaction(pool, async (conn) => {
        // In the order given: the ids of one statement's rows increase in it.
        for (const chunk of byteChunks(checked, (e) => e.playerId.length + e.event.length + e.sceneId.length + e.fields.length, LOGS_PER_STATEMENT)) {
          // query(), not execute(): the text changes with the number of rows, and a prepared
          // statement per size would pile up on the server.
          await conn.query('INSERT INTO player_logs (player_id, at, event, scene_id, fields) VALUES ?', [chunk.map((e) => [e.playerId, e.at, e.event, e.sceneId, e.fields])]);
        }
      });
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  query(q: PlayerLogQuery): Promise<StoredPlayerLog[]> {
    return this.#db.run(async (pool) => {
      const a = checkLogQuery(q);
      // query(): the driver binds LIMIT as a number literal, where execute() with it interpolated
      // would prepare a statement per page size.
      const [rows] = await pool.query<RowDataPacket[]>(
        'SELECT id, at, event, scene_id, fields FROM player_logs WHERE player_id = ? AND at >= ? AND at < ? AND (at > ? OR (at = ? AND id > ?)) AND (? IS NULL OR event = ?) ORDER BY at, id LIMIT ?',
        [a.playerId, a.lower, a.upper, a.afterAt, a.afterAt, a.afterId, a.event, a.event, a.limit],
      );
      // mysql2 rows are untyped: every column is converted explicitly (the binary columns arrive as Buffers).
      return rows.map((r) => ({ id: Number(r.id), playerId: a.playerId, at: Number(r.at), event: String(r.event), sceneId: String(r.scene_id), fields: String(r.fields) }));
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  prune(before: number, limit: number): Promise<number> {
    return this.#db.run(async (pool) => {
      const until = checkTime('before', before);
      const n = checkPruneLimit(limit);
      // (at, id), not at alone: a deterministic order, which a DELETE … LIMIT needs to be safe
      // for statement-based replication. LIMIT takes no placeholder under execute() in every
      // server version: n is a checked integer.
      const [res] = await pool.execute<ResultSetHeader>(`DELETE FROM player_logs WHERE at < ? ORDER BY at, id LIMIT ${n}`, [until]);
      return res.affectedRows;
    });
  }
}
