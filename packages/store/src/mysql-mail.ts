/**
 * {@link MailStore} on MySQL/MariaDB: `mail` and `mail_marks` (migration 11), through the pool and
 * the transactions of the `MysqlStore` that owns it; {@link claimMail} is the part of its
 * `saveBatch` that claims attachments.
 *
 * Statements whose text varies with a list's length (`IN (?)`, multi-row `VALUES ?`) or that
 * carry a LIMIT go through query(), not execute(): a prepared statement per length or page size
 * would pile up on the server.
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { checkKey, checkTime } from './common.js';
import { checkAfterMailId, checkBroadcastLimit, checkMailId, checkMailIds, checkMailPruneLimit, checkMailQuery, checkNewMail, checkNow, checkRecipients } from './mail-args.js';
import type { MysqlAccess } from './mysql-leaderboard-archive.js';
import { byteChunks } from './mysql-owner-writes.js';
import type { Queryable } from './mysql-pool.js';
import type { MailItem, MailQuery, MailRecipients, MailStore, NewMail } from './service-types.js';

/** Mark rows one `send` statement inserts at most (fewer when the ids are long). */
const MARKS_PER_STATEMENT = 1000;
/** Mails one `prune` transaction removes at most (each with its marks), so no transaction grows large. */
const PRUNE_CHUNK = 100;

const COLUMNS = 'm.id AS id, m.broadcast AS broadcast, m.sender AS sender, m.subject AS subject, m.body AS body, m.attachments AS attachments, m.sent_at AS sent_at, m.expires_at AS expires_at, k.read_at AS read_at, k.claimed_at AS claimed_at';
/** Listed: not deleted by the player, not expired at `now` (a mail is listed until its `expires_at` has passed). Binds: now. */
const LISTED = 'k.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at >= ?)';
/** The player's direct mail, through its mark rows (primary key order). Binds: player, now. */
const DIRECT = `FROM mail_marks k JOIN mail m ON m.id = k.mail_id WHERE k.player_id = ? AND m.broadcast = 0 AND ${LISTED}`;
/** Mail to everyone, through `mail_broadcast`, with the player's mark row if it has one. Binds: player, now. */
const BROADCAST = `FROM mail m LEFT JOIN mail_marks k ON k.player_id = ? AND k.mail_id = m.id WHERE m.broadcast = 1 AND ${LISTED}`;

/** Two index-ordered pages (each at most `limit`), merged: never more rows read than two pages. Binds: (player, now, before, unreadOnly, limit) twice, then limit. */
const LIST = [DIRECT, BROADCAST]
  .map((from, i) => {
    const id = i === 0 ? 'k.mail_id' : 'm.id';
    return `(SELECT ${COLUMNS} ${from} AND ${id} < ? AND (? = 0 OR k.read_at IS NULL) ORDER BY ${id} DESC LIMIT ?)`;
  })
  .join(' UNION ALL ')
  .concat(' ORDER BY id DESC LIMIT ?');
/** Binds: (player, now) twice. */
const COUNTS = [DIRECT, BROADCAST].map((from) => `SELECT COUNT(*) AS total, COALESCE(SUM(k.read_at IS NULL), 0) AS unread ${from}`).join(' UNION ALL ');

/**
 * Make the player's mark rows of those `ids` that are mail to everyone (a direct mail's row
 * exists; an id that is no mail gets none). ON DUPLICATE KEY UPDATE rather than INSERT IGNORE:
 * it takes an existing row's lock exclusive at once, where INSERT IGNORE's shared lock, raised
 * to exclusive by the update that follows, could deadlock with another transaction doing the same.
 */
async function touchBroadcasts(conn: Queryable, playerId: string, ids: readonly number[]): Promise<void> {
  await conn.query('INSERT INTO mail_marks (player_id, mail_id) SELECT ?, id FROM mail WHERE id IN (?) AND broadcast = 1 ON DUPLICATE KEY UPDATE mail_id = mail_id', [playerId, ids]);
}

/**
 * Claim `mailIds` (distinct, ascending) for `playerId` at `now`, inside the save's transaction
 * and after its row was written: each must be the player's (a mark row, made here for a mail to
 * everyone), have attachments and be unclaimed.
 *
 * The UPDATE is a locking read of the latest committed rows: a concurrent transaction claiming
 * the same mark waits for this one's lock, then finds `claimed_at` set and matches nothing, so
 * two transactions can never both claim one mail for one player (the player row's lock, taken by
 * the write just before, already queues writers of one player; this does not rely on it).
 * @returns whether every mail was claimed; when not, the caller rolls the entry back to its savepoint.
 */
export async function claimMail(conn: PoolConnection, playerId: string, mailIds: readonly number[], now: number): Promise<boolean> {
  await touchBroadcasts(conn, playerId, mailIds);
  // mysql2 sets CLIENT_FOUND_ROWS: affectedRows counts matched rows, and `claimed_at IS NULL` makes them the changed ones.
  const [res] = await conn.query<ResultSetHeader>(
    'UPDATE mail_marks k JOIN mail m ON m.id = k.mail_id SET k.claimed_at = ? WHERE k.player_id = ? AND k.mail_id IN (?) AND k.claimed_at IS NULL AND m.attachments IS NOT NULL',
    [now, playerId, mailIds],
  );
  return res.affectedRows === mailIds.length;
}

/** mysql2 rows are untyped: every column is converted explicitly. */
function toItem(r: RowDataPacket): MailItem {
  return {
    mailId: Number(r.id),
    from: String(r.sender),
    subject: String(r.subject),
    body: String(r.body),
    attachments: r.attachments === null ? null : String(r.attachments),
    sentAt: Number(r.sent_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    broadcast: Number(r.broadcast) !== 0,
    readAt: r.read_at === null ? null : Number(r.read_at),
    claimedAt: r.claimed_at === null ? null : Number(r.claimed_at),
  };
}

export class MysqlMail implements MailStore {
  readonly #db: MysqlAccess;

  constructor(db: MysqlAccess) {
    this.#db = db;
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  send(to: MailRecipients, mail: NewMail, sentAt: number): Promise<number> {
    return this.#db.run(async (pool) => {
      const players = checkRecipients(to);
      const m = checkNewMail(mail);
      const at = checkTime('sentAt', sentAt);
      return this.#db.transaction(pool, async (conn) => {
        const [res] = await conn.execute<ResultSetHeader>('INSERT INTO mail (broadcast, sender, subject, body, attachments, sent_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
          players === null ? 1 : 0,
          m.from,
          m.subject,
          m.body,
          m.attachments,
          at,
          m.expiresAt,
        ]);
        const id = Number(res.insertId);
        for (const chunk of byteChunks(players ?? [], (p) => p.length, MARKS_PER_STATEMENT)) {
          await conn.query('INSERT INTO mail_marks (player_id, mail_id) VALUES ?', [chunk.map((p) => [p, id])]);
        }
        return id;
      });
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  list(q: MailQuery): Promise<MailItem[]> {
    return this.#db.run(async (pool) => {
      const a = checkMailQuery(q);
      const page = [a.playerId, a.now, a.before, a.unreadOnly ? 1 : 0, a.limit];
      const [rows] = await pool.query<RowDataPacket[]>(LIST, [...page, ...page, a.limit]);
      return rows.map(toItem);
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  get(playerId: string, mailId: number): Promise<(MailItem & { readonly deletedAt: number | null }) | null> {
    return this.#db.run(async (pool) => {
      const player = checkKey('playerId', playerId);
      const id = checkMailId('mailId', mailId);
      const [rows] = await pool.execute<RowDataPacket[]>(
        `SELECT ${COLUMNS}, k.deleted_at AS deleted_at, k.mail_id IS NOT NULL AS marked FROM mail m LEFT JOIN mail_marks k ON k.player_id = ? AND k.mail_id = m.id WHERE m.id = ?`,
        [player, id],
      );
      const row = rows[0];
      // A direct mail is the player's only through its mark row; a mail to everyone is everyone's.
      if (row === undefined || (Number(row.broadcast) === 0 && Number(row.marked) === 0)) return null;
      return { ...toItem(row), deletedAt: row.deleted_at === null ? null : Number(row.deleted_at) };
    });
  }

  /** @throws STO_ERR_CONNECTION */
  lastMailId(): Promise<number> {
    return this.#db.run(async (pool) => {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) AS id FROM mail');
      return Number(rows[0]?.['id'] ?? 0);
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  broadcasts(afterMailId: number, limit: number, now?: number): Promise<MailItem[]> {
    return this.#db.run(async (pool) => {
      const after = checkAfterMailId(afterMailId);
      const n = checkBroadcastLimit(limit);
      const at = checkNow(now);
      const [rows] = await pool.query<RowDataPacket[]>(
        'SELECT m.id AS id, m.broadcast AS broadcast, m.sender AS sender, m.subject AS subject, m.body AS body, m.attachments AS attachments, m.sent_at AS sent_at, m.expires_at AS expires_at, NULL AS read_at, NULL AS claimed_at FROM mail m WHERE m.broadcast = 1 AND m.id > ? AND (m.expires_at IS NULL OR m.expires_at >= ?) ORDER BY m.id LIMIT ?',
        [after, at, n],
      );
      return rows.map(toItem);
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  counts(playerId: string, now?: number): Promise<{ readonly total: number; readonly unread: number }> {
    return this.#db.run(async (pool) => {
      const player = checkKey('playerId', playerId);
      const at = checkNow(now);
      const [rows] = await pool.execute<RowDataPacket[]>(COUNTS, [player, at, player, at]);
      // COUNT and SUM arrive as numbers or decimal strings: converted explicitly.
      return { total: rows.reduce((n, r) => n + Number(r.total), 0), unread: rows.reduce((n, r) => n + Number(r.unread), 0) };
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  markRead(playerId: string, mailIds: readonly number[], at: number): Promise<number> {
    return this.#mark(playerId, mailIds, at, 'read_at');
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  delete(playerId: string, mailIds: readonly number[], at: number): Promise<number> {
    return this.#mark(playerId, mailIds, at, 'deleted_at');
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  prune(before: number, limit: number): Promise<number> {
    return this.#db.run(async (pool) => {
      const until = checkTime('before', before);
      const n = checkMailPruneLimit(limit);
      let gone = 0;
      while (gone < n) {
        const max = Math.min(PRUNE_CHUNK, n - gone);
        const k = await this.#db.transaction(pool, async (conn) => {
          // (expires_at, id): a deterministic order, and the mails locked before their marks, as
          // the claims and marks that read them lock them.
          const [rows] = await conn.query<RowDataPacket[]>('SELECT id FROM mail WHERE expires_at < ? ORDER BY expires_at, id LIMIT ? FOR UPDATE', [until, max]);
          const ids = rows.map((r) => Number(r.id));
          if (ids.length === 0) return 0;
          await conn.query('DELETE FROM mail_marks WHERE mail_id IN (?)', [ids]);
          const [res] = await conn.query<ResultSetHeader>('DELETE FROM mail WHERE id IN (?)', [ids]);
          return res.affectedRows;
        });
        gone += k;
        if (k < max) break;
      }
      return gone;
    });
  }

  /** Set a mark on the player's mails that lack it: how many changed. `column` is one of two constants. */
  #mark(playerId: string, mailIds: readonly number[], at: number, column: 'read_at' | 'deleted_at'): Promise<number> {
    return this.#db.run(async (pool) => {
      const player = checkKey('playerId', playerId);
      const ids = checkMailIds(mailIds);
      const time = checkTime('at', at);
      return this.#db.transaction(pool, async (conn) => {
        await touchBroadcasts(conn, player, ids);
        // A mark row exists only for the player's mail: the others match nothing.
        const [res] = await conn.query<ResultSetHeader>(`UPDATE mail_marks SET ${column} = ? WHERE player_id = ? AND mail_id IN (?) AND ${column} IS NULL`, [time, player, ids]);
        return res.affectedRows;
      });
    });
  }
}
