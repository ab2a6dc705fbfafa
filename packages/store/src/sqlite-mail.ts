/**
 * {@link MailStore} on SQLite: `mail` and `mail_marks` (migration 11), through the database and
 * the statements of the `SqliteStore` that owns it; {@link claimMail} is the part of its
 * `saveBatch` that claims attachments.
 */
import type Database from 'better-sqlite3';
import { checkKey, checkTime } from './common.js';
import { checkAfterMailId, checkBroadcastLimit, checkMailId, checkMailIds, checkMailPruneLimit, checkMailQuery, checkNewMail, checkNow, checkRecipients, notClaimable } from './mail-args.js';
import type { Db } from './sqlite-db.js';
import type { MailItem, MailQuery, MailRecipients, MailStore, NewMail } from './service-types.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** Mails one `prune` transaction removes at most (each with its marks), so the write lock is never held long. */
const PRUNE_CHUNK = 100;

/** The mail's statements, prepared with the store's others at start. */
export interface MailStatements {
  readonly insertMail: Stmt;
  readonly insertMark: Stmt;
  readonly list: Stmt;
  readonly counts: Stmt;
  readonly get: Stmt;
  /** Make a broadcast's mark row for the player (nothing for a direct mail, whose row exists, or a mail that does not). */
  readonly touchBroadcast: Stmt;
  readonly markRead: Stmt;
  readonly markDeleted: Stmt;
  readonly claim: Stmt;
  readonly expired: Stmt;
  readonly lastId: Stmt;
  readonly broadcasts: Stmt;
  readonly deleteMarks: Stmt;
  readonly deleteMail: Stmt;
}

const COLUMNS = 'm.id AS id, m.broadcast AS broadcast, m.sender AS sender, m.subject AS subject, m.body AS body, m.attachments AS attachments, m.sent_at AS sent_at, m.expires_at AS expires_at, k.read_at AS read_at, k.claimed_at AS claimed_at';
/** Listed: not deleted by the player, not expired at `@now` (a mail is listed until its `expires_at` has passed). */
const LISTED = 'k.deleted_at IS NULL AND (m.expires_at IS NULL OR m.expires_at >= @now)';
/** The player's direct mail: through its mark rows (primary key order). */
const DIRECT = `FROM mail_marks k JOIN mail m ON m.id = k.mail_id WHERE k.player_id = @player AND m.broadcast = 0 AND ${LISTED}`;
/** Mail to everyone: through `mail_broadcast`, with the player's mark row if it has one. */
const BROADCAST = `FROM mail m LEFT JOIN mail_marks k ON k.player_id = @player AND k.mail_id = m.id WHERE m.broadcast = 1 AND ${LISTED}`;

export function prepareMail(db: Db): MailStatements {
  const page = (from: string, id: string): string => `SELECT * FROM (SELECT ${COLUMNS} ${from} AND ${id} < @before AND (@unreadOnly = 0 OR k.read_at IS NULL) ORDER BY ${id} DESC LIMIT @limit)`;
  const count = (from: string): string => `SELECT COUNT(*) AS total, COALESCE(SUM(k.read_at IS NULL), 0) AS unread ${from}`;
  return {
    insertMail: db.prepare('INSERT INTO mail (broadcast, sender, subject, body, attachments, sent_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    insertMark: db.prepare('INSERT INTO mail_marks (player_id, mail_id) VALUES (?, ?)'),
    // Two index-ordered pages (each at most `limit`), merged: never more rows read than two pages.
    list: db.prepare(`${page(DIRECT, 'k.mail_id')} UNION ALL ${page(BROADCAST, 'm.id')} ORDER BY id DESC LIMIT @limit`),
    counts: db.prepare(`${count(DIRECT)} UNION ALL ${count(BROADCAST)}`),
    get: db.prepare(`SELECT ${COLUMNS}, k.deleted_at AS deleted_at, k.player_id IS NOT NULL AS marked FROM mail m LEFT JOIN mail_marks k ON k.player_id = ? AND k.mail_id = m.id WHERE m.id = ?`),
    // The WHERE keeps SQLite's parser from reading ON CONFLICT as a join's ON.
    touchBroadcast: db.prepare('INSERT INTO mail_marks (player_id, mail_id) SELECT ?, id FROM mail WHERE id = ? AND broadcast = 1 ON CONFLICT (player_id, mail_id) DO NOTHING'),
    markRead: db.prepare('UPDATE mail_marks SET read_at = ? WHERE player_id = ? AND mail_id = ? AND read_at IS NULL'),
    markDeleted: db.prepare('UPDATE mail_marks SET deleted_at = ? WHERE player_id = ? AND mail_id = ? AND deleted_at IS NULL'),
    claim: db.prepare(
      'UPDATE mail_marks SET claimed_at = ? WHERE player_id = ? AND mail_id = ? AND claimed_at IS NULL AND EXISTS (SELECT 1 FROM mail m WHERE m.id = mail_marks.mail_id AND m.attachments IS NOT NULL)',
    ),
    expired: db.prepare('SELECT id FROM mail WHERE expires_at < ? ORDER BY expires_at, id LIMIT ?').pluck(),
    lastId: db.prepare('SELECT COALESCE(MAX(id), 0) FROM mail').pluck(),
    broadcasts: db.prepare(
      'SELECT id, broadcast, sender, subject, body, attachments, sent_at, expires_at, NULL AS read_at, NULL AS claimed_at FROM mail WHERE broadcast = 1 AND id > ? AND (expires_at IS NULL OR expires_at >= ?) ORDER BY id LIMIT ?',
    ),
    deleteMarks: db.prepare('DELETE FROM mail_marks WHERE mail_id = ?'),
    deleteMail: db.prepare('DELETE FROM mail WHERE id = ?'),
  };
}

/**
 * Runs `fn` on the store's open database, as one of its operations: STO_ERR_CONNECTION when the
 * store is not running, errors of the file or its locks mapped.
 */
export type SqliteMailRun = <T>(fn: (db: Db, s: MailStatements) => T) => Promise<T>;

interface MailRow {
  id: number;
  broadcast: number;
  sender: string;
  subject: string;
  body: string;
  attachments: string | null;
  sent_at: number;
  expires_at: number | null;
  read_at: number | null;
  claimed_at: number | null;
}

function toItem(r: MailRow): MailItem {
  return {
    mailId: r.id,
    from: r.sender,
    subject: r.subject,
    body: r.body,
    attachments: r.attachments,
    sentAt: r.sent_at,
    expiresAt: r.expires_at,
    broadcast: r.broadcast !== 0,
    readAt: r.read_at,
    claimedAt: r.claimed_at,
  };
}

/**
 * Claim `mailIds` (distinct) for `playerId` at `now`, inside the save's transaction: each must be
 * the player's (a mark row, made here for a mail to everyone), have attachments and be unclaimed.
 * @throws MAIL_ERR_NOT_CLAIMABLE naming the first that is not; the caller runs this in a
 *   savepoint that the throw rolls back, with the row's write.
 */
export function claimMail(s: MailStatements, playerId: string, mailIds: readonly number[], now: number): void {
  for (const id of mailIds) {
    s.touchBroadcast.run(playerId, id);
    if (s.claim.run(now, playerId, id).changes !== 1) throw notClaimable(playerId, [id]);
  }
}

export class SqliteMail implements MailStore {
  readonly #run: SqliteMailRun;

  constructor(run: SqliteMailRun) {
    this.#run = run;
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async send(to: MailRecipients, mail: NewMail, sentAt: number): Promise<number> {
    const players = checkRecipients(to);
    const m = checkNewMail(mail);
    const at = checkTime('sentAt', sentAt);
    return this.#run((db, s) =>
      db
        .transaction((): number => {
          // lastInsertRowid is a bigint only in safeIntegers mode, which this store does not use.
          const id = Number(s.insertMail.run(players === null ? 1 : 0, m.from, m.subject, m.body, m.attachments, at, m.expiresAt).lastInsertRowid);
          for (const player of players ?? []) s.insertMark.run(player, id);
          return id;
        })
        .immediate(),
    );
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async list(q: MailQuery): Promise<MailItem[]> {
    const a = checkMailQuery(q);
    return this.#run((_db, s) =>
      (s.list.all({ player: a.playerId, before: a.before, unreadOnly: a.unreadOnly ? 1 : 0, now: a.now, limit: a.limit }) as MailRow[]).map(toItem),
    );
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async get(playerId: string, mailId: number): Promise<(MailItem & { readonly deletedAt: number | null }) | null> {
    const player = checkKey('playerId', playerId);
    const id = checkMailId('mailId', mailId);
    return this.#run((_db, s) => {
      const row = s.get.get(player, id) as (MailRow & { deleted_at: number | null; marked: number }) | undefined;
      // A direct mail is the player's only through its mark row; a mail to everyone is everyone's.
      if (row === undefined || (row.broadcast === 0 && row.marked === 0)) return null;
      return { ...toItem(row), deletedAt: row.deleted_at };
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async counts(playerId: string, now?: number): Promise<{ readonly total: number; readonly unread: number }> {
    const player = checkKey('playerId', playerId);
    const at = checkNow(now);
    return this.#run((_db, s) => {
      const parts = s.counts.all({ player, now: at }) as Array<{ total: number; unread: number }>;
      return { total: parts.reduce((n, p) => n + p.total, 0), unread: parts.reduce((n, p) => n + p.unread, 0) };
    });
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async markRead(playerId: string, mailIds: readonly number[], at: number): Promise<number> {
    return this.#mark(playerId, mailIds, at, (s) => s.markRead);
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async delete(playerId: string, mailIds: readonly number[], at: number): Promise<number> {
    return this.#mark(playerId, mailIds, at, (s) => s.markDeleted);
  }

  /** @throws STO_ERR_CONNECTION */
  async lastMailId(): Promise<number> {
    return this.#run((_db, s) => s.lastId.get() as number);
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async broadcasts(afterMailId: number, limit: number, now?: number): Promise<MailItem[]> {
    const after = checkAfterMailId(afterMailId);
    const n = checkBroadcastLimit(limit);
    const at = checkNow(now);
    return this.#run((_db, s) => (s.broadcasts.all(after, at, n) as MailRow[]).map(toItem));
  }

  /** @throws OPT_ERR_INVALID, STO_ERR_CONNECTION */
  async prune(before: number, limit: number): Promise<number> {
    const until = checkTime('before', before);
    const n = checkMailPruneLimit(limit);
    return this.#run((db, s) => {
      const chunk = db.transaction((max: number): number => {
        const ids = s.expired.all(until, max) as number[];
        for (const id of ids) {
          s.deleteMarks.run(id);
          s.deleteMail.run(id);
        }
        return ids.length;
      });
      let gone = 0;
      while (gone < n) {
        const max = Math.min(PRUNE_CHUNK, n - gone);
        const k = chunk.immediate(max);
        gone += k;
        if (k < max) break;
      }
      return gone;
    });
  }

  /** Set a mark (`read_at`, `deleted_at`) on the player's mails that lack it: how many changed. */
  async #mark(playerId: string, mailIds: readonly number[], at: number, mark: (s: MailStatements) => Stmt): Promise<number> {
    const player = checkKey('playerId', playerId);
    const ids = checkMailIds(mailIds);
    const time = checkTime('at', at);
    return this.#run((db, s) =>
      db
        .transaction((): number => {
          let changed = 0;
          for (const id of ids) {
            s.touchBroadcast.run(player, id);
            changed += mark(s).run(time, player, id).changes;
          }
          return changed;
        })
        .immediate(),
    );
  }
}
