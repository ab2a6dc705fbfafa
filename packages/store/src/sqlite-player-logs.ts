/**
 * {@link PlayerLogStore} on SQLite: `player_logs` (migration 9), through the database and the
 * statements of the `SqliteStore` that owns it.
 */
import type Database from 'better-sqlite3';
import { checkTime } from './common.js';
import { checkLogEntries, checkLogQuery, checkPruneLimit } from './player-log-args.js';
import type { Db } from './sqlite-db.js';
import type { PlayerLogEntry, PlayerLogQuery, PlayerLogStore, StoredPlayerLog } from './service-types.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** The player logs' statements, prepared with the store's others at start. */
export interface PlayerLogStatements {
  readonly append: Stmt;
  readonly query: Stmt;
  readonly prune: Stmt;
}

export function preparePlayerLogs(db: Db): PlayerLogStatements {
  return {
    append: db.prepare('INSERT INTO player_logs (player_id, at, event, scene_id, fields) VALUES (?, ?, ?, ?, ?)'),
    query: db.prepare(
      'SELECT id, at, event, scene_id, fields FROM player_logs WHERE player_id = ? AND at >= ? AND at < ? AND (at > ? OR (at = ? AND id > ?)) AND (? IS NULL OR event = ?) ORDER BY at, id LIMIT ?',
    ),
    // SQLite has DELETE … LIMIT only when built with an option: the oldest rows are chosen by id.
    prune: db.prepare('DELETE FROM player_logs WHERE id IN (SELECT id FROM player_logs WHERE at < ? ORDER BY at, id LIMIT ?)'),
  };
}

/**
 * Runs `fn` on the store's open database, as one of its operations: STO_ERR_CONNECTION when the
 * store is not running, errors of the file or its locks mapped.
 */
export type SqlitePlayerLogRun = <T>(fn: (db: Db, s: PlayerLogStatements) => T) => Promise<T>;

interface LogRow {
  id: number;
  at: number;
  event: string;
  scene_id: string;
  fields: string;
}

export class SqlitePlayerLogs implements PlayerLogStore {
  readonly #run: SqlitePlayerLogRun;

  constructor(run: SqlitePlayerLogRun) {
    this.#run = run;
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async append(entries: readonly PlayerLogEntry[]): Promise<void> {
    const checked = checkLogEntries(entries);
    return this.#run((db, s) => {
      db.transaction(() => {
        for (const e of checked) s.append.run(e.playerId, e.at, e.event, e.sceneId, e.fields);
      }).immediate();
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async query(q: PlayerLogQuery): Promise<StoredPlayerLog[]> {
    const a = checkLogQuery(q);
    return this.#run((_db, s) =>
      (s.query.all(a.playerId, a.lower, a.upper, a.afterAt, a.afterAt, a.afterId, a.event, a.event, a.limit) as LogRow[]).map((r) => ({
        id: r.id,
        playerId: a.playerId,
        at: r.at,
        event: r.event,
        sceneId: r.scene_id,
        fields: r.fields,
      })),
    );
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async prune(before: number, limit: number): Promise<number> {
    const until = checkTime('before', before);
    const n = checkPruneLimit(limit);
    return this.#run((_db, s) => s.prune.run(until, n).changes);
  }
}
