/**
 * {@link LeaderboardArchive} on MySQL/MariaDB: `leaderboard_standings` and `leaderboard_periods`
 * (migration 8), through the pool and the transactions of the `MysqlStore` that owns it.
 */
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { checkTime } from './common.js';
import { checkBoard, checkCount, checkMemberId, checkPageLimit, checkPeriod, checkStandings } from './leaderboard-archive-args.js';
import { byteChunks } from './mysql-owner-writes.js';
import type { ArchivedPeriod, ArchivedStanding, LeaderboardArchive } from './service-types.js';

/** What the archive, the player logs, the config bundles and the mail borrow from their MysqlStore. */
export interface MysqlAccess {
  /** Run `fn` on the pool, as one of the store's operations: STO_ERR_CONNECTION when the store is not running, driver errors mapped, awaited by `close()`. */
  run<T>(fn: (pool: Pool) => Promise<T>): Promise<T>;
  /** Run `fn` in a transaction on one connection, retried when InnoDB chose it as a deadlock victim. */
  transaction<T>(pool: Pool, fn: (conn: PoolConnection) => Promise<T>): Promise<T>;
}

/** Rows one `writeStandings` statement carries at most (fewer when their data is large). */
const STANDINGS_PER_STATEMENT = 1000;

// `rank` is a reserved word in MySQL 8 (a window function): always quoted.
const STANDING_COLUMNS = '`rank`, member_id, score, data';

/** mysql2 rows are untyped: every column is converted explicitly (the binary columns arrive as Buffers). */
function toStanding(row: RowDataPacket): ArchivedStanding {
  return { rank: Number(row.rank), memberId: String(row.member_id), score: Number(row.score), data: row.data === null ? null : String(row.data) };
}

export class MysqlLeaderboardArchive implements LeaderboardArchive {
  readonly #db: MysqlAccess;

  constructor(db: MysqlAccess) {
    this.#db = db;
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  writeStandings(board: string, periodStart: number, rows: readonly ArchivedStanding[]): Promise<void> {
    return this.#db.run(async (pool) => {
      const name = checkBoard(board);
      const start = checkTime('periodStart', periodStart);
      // By rank (a stable sort: a rank given twice keeps its last row): two archivers of one
      // period lock its rows in the same order, so they queue instead of deadlocking.
      const checked = checkStandings(rows).sort((a, b) => a.rank - b.rank);
      if (checked.length === 0) return;
      await this.#db.transaction(pool, async (conn) => {
        for (const chunk of byteChunks(checked, (r) => r.memberId.length + (r.data?.length ?? 4), STANDINGS_PER_STATEMENT)) {
          // query(), not execute(): the text changes with the number of rows, and a prepared
          // statement per size would pile up on the server.
          await conn.query(
            `INSERT INTO leaderboard_standings (board, period_start, ${STANDING_COLUMNS}) VALUES ? ON DUPLICATE KEY UPDATE member_id = VALUES(member_id), score = VALUES(score), data = VALUES(data)`,
            [chunk.map((r) => [name, start, r.rank, r.memberId, r.score, r.data])],
          );
        }
      });
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  closePeriod(period: Omit<ArchivedPeriod, 'archivedAt'>): Promise<void> {
    return this.#db.run(async (pool) => {
      const p = checkPeriod(period);
      // Keeps the first record. Not INSERT IGNORE: that also turns other errors into warnings.
      // Recorded now (not before): rows past the last rank are an earlier, longer attempt's (an
      // archiver that died half-way while the standings still changed), and go.
      // (Checked with a locking read, not affectedRows: mysql2 counts a duplicate as found.)
      await this.#db.transaction(pool, async (conn) => {
        const [have] = await conn.execute<RowDataPacket[]>('SELECT 1 FROM leaderboard_periods WHERE board = ? AND period_start = ? FOR UPDATE', [p.board, p.periodStart]);
        if (have.length > 0) return;
        await conn.execute('INSERT INTO leaderboard_periods (board, period_start, period_end, members, archived_at) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE board = board', [p.board, p.periodStart, p.periodEnd, p.members, Date.now()]);
        await conn.execute('DELETE FROM leaderboard_standings WHERE board = ? AND period_start = ? AND `rank` > ?', [p.board, p.periodStart, p.members]);
      });
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  periods(board: string, limit: number): Promise<ArchivedPeriod[]> {
    return this.#db.run(async (pool) => {
      const name = checkBoard(board);
      const n = checkPageLimit(limit);
      // LIMIT takes no placeholder under execute() in every server version: n is a checked integer.
      const [rows] = await pool.execute<RowDataPacket[]>(`SELECT period_start, period_end, members, archived_at FROM leaderboard_periods WHERE board = ? ORDER BY period_start DESC LIMIT ${n}`, [name]);
      return rows.map((r) => ({ board: name, periodStart: Number(r.period_start), periodEnd: Number(r.period_end), members: Number(r.members), archivedAt: Number(r.archived_at) }));
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  standings(board: string, periodStart: number, offset: number, limit: number): Promise<ArchivedStanding[]> {
    return this.#db.run(async (pool) => {
      const name = checkBoard(board);
      const start = checkTime('periodStart', periodStart);
      const from = checkCount('offset', offset);
      const n = checkPageLimit(limit);
      // query(): the driver binds LIMIT and OFFSET as number literals, where execute() with them
      // interpolated would prepare a statement per page.
      const [rows] = await pool.query<RowDataPacket[]>(`SELECT ${STANDING_COLUMNS} FROM leaderboard_standings WHERE board = ? AND period_start = ? ORDER BY \`rank\` LIMIT ? OFFSET ?`, [name, start, n, from]);
      return rows.map(toStanding);
    });
  }

  /** A member listed at several ranks (rows of different runs) is found at the best one. @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  standing(board: string, periodStart: number, memberId: string): Promise<ArchivedStanding | null> {
    return this.#db.run(async (pool) => {
      const name = checkBoard(board);
      const start = checkTime('periodStart', periodStart);
      const id = checkMemberId('memberId', memberId);
      const [rows] = await pool.execute<RowDataPacket[]>(`SELECT ${STANDING_COLUMNS} FROM leaderboard_standings WHERE board = ? AND period_start = ? AND member_id = ? ORDER BY \`rank\` LIMIT 1`, [name, start, id]);
      return rows[0] === undefined ? null : toStanding(rows[0]);
    });
  }
}
