/**
 * {@link LeaderboardArchive} on SQLite: `leaderboard_standings` and `leaderboard_periods`
 * (migration 8), through the database and the statements of the `SqliteStore` that owns it.
 */
import type Database from 'better-sqlite3';
import { checkTime } from './common.js';
import { checkBoard, checkCount, checkMemberId, checkPageLimit, checkPeriod, checkStandings } from './leaderboard-archive-args.js';
import type { Db } from './sqlite-db.js';
import type { ArchivedPeriod, ArchivedStanding, LeaderboardArchive } from './service-types.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** The archive's statements, prepared with the store's others at start. */
export interface ArchiveStatements {
  readonly writeStanding: Stmt;
  readonly closePeriod: Stmt;
  readonly trimStandings: Stmt;
  readonly periods: Stmt;
  readonly standings: Stmt;
  readonly standing: Stmt;
}

export function prepareArchive(db: Db): ArchiveStatements {
  return {
    writeStanding: db.prepare(
      'INSERT INTO leaderboard_standings (board, period_start, rank, member_id, score, data) VALUES (?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (board, period_start, rank) DO UPDATE SET member_id = excluded.member_id, score = excluded.score, data = excluded.data',
    ),
    // Keeps the first record; DO NOTHING names the conflict, where INSERT OR IGNORE would also skip NOT NULL failures.
    closePeriod: db.prepare('INSERT INTO leaderboard_periods (board, period_start, period_end, members, archived_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (board, period_start) DO NOTHING'),
    trimStandings: db.prepare('DELETE FROM leaderboard_standings WHERE board = ? AND period_start = ? AND rank > ?'),
    periods: db.prepare('SELECT period_start, period_end, members, archived_at FROM leaderboard_periods WHERE board = ? ORDER BY period_start DESC LIMIT ?'),
    standings: db.prepare('SELECT rank, member_id, score, data FROM leaderboard_standings WHERE board = ? AND period_start = ? ORDER BY rank LIMIT ? OFFSET ?'),
    standing: db.prepare('SELECT rank, member_id, score, data FROM leaderboard_standings WHERE board = ? AND period_start = ? AND member_id = ? ORDER BY rank LIMIT 1'),
  };
}

/**
 * Runs `fn` on the store's open database, as one of its operations: STO_ERR_CONNECTION when the
 * store is not running, errors of the file or its locks mapped.
 */
export type SqliteArchiveRun = <T>(fn: (db: Db, s: ArchiveStatements) => T) => Promise<T>;

interface StandingRow {
  rank: number;
  member_id: string;
  score: number;
  data: string | null;
}

interface PeriodRow {
  period_start: number;
  period_end: number;
  members: number;
  archived_at: number;
}

const toStanding = (r: StandingRow): ArchivedStanding => ({ rank: r.rank, memberId: r.member_id, score: r.score, data: r.data });

export class SqliteLeaderboardArchive implements LeaderboardArchive {
  readonly #run: SqliteArchiveRun;

  constructor(run: SqliteArchiveRun) {
    this.#run = run;
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async writeStandings(board: string, periodStart: number, rows: readonly ArchivedStanding[]): Promise<void> {
    const name = checkBoard(board);
    const start = checkTime('periodStart', periodStart);
    const checked = checkStandings(rows);
    return this.#run((db, s) => {
      db.transaction(() => {
        for (const r of checked) s.writeStanding.run(name, start, r.rank, r.memberId, r.score, r.data);
      }).immediate();
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async closePeriod(period: Omit<ArchivedPeriod, 'archivedAt'>): Promise<void> {
    const p = checkPeriod(period);
    return this.#run((db, s) => {
      // Recorded now (not before): rows past the last rank are an earlier, longer attempt's (an
      // archiver that died half-way while the standings still changed), and go.
      db.transaction(() => {
        if (s.closePeriod.run(p.board, p.periodStart, p.periodEnd, p.members, Date.now()).changes === 1) s.trimStandings.run(p.board, p.periodStart, p.members);
      })();
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async periods(board: string, limit: number): Promise<ArchivedPeriod[]> {
    const name = checkBoard(board);
    const n = checkPageLimit(limit);
    return this.#run((_db, s) =>
      (s.periods.all(name, n) as PeriodRow[]).map((r) => ({ board: name, periodStart: r.period_start, periodEnd: r.period_end, members: r.members, archivedAt: r.archived_at })),
    );
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async standings(board: string, periodStart: number, offset: number, limit: number): Promise<ArchivedStanding[]> {
    const name = checkBoard(board);
    const start = checkTime('periodStart', periodStart);
    const from = checkCount('offset', offset);
    const n = checkPageLimit(limit);
    return this.#run((_db, s) => (s.standings.all(name, start, n, from) as StandingRow[]).map(toStanding));
  }

  /** A member listed at several ranks (rows of different runs) is found at the best one. @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async standing(board: string, periodStart: number, memberId: string): Promise<ArchivedStanding | null> {
    const name = checkBoard(board);
    const start = checkTime('periodStart', periodStart);
    const id = checkMemberId('memberId', memberId);
    return this.#run((_db, s) => {
      const row = s.standing.get(name, start, id) as StandingRow | undefined;
      return row === undefined ? null : toStanding(row);
    });
  }
}
