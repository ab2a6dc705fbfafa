/**
 * The contracts of the store's game-service tables (docs/storage.md): leaderboard archives,
 * player logs, config bundles and mail. `Store` (types.ts) holds one of each.
 */

/** One member of a leaderboard's closed period, as archived (see {@link LeaderboardArchive}). */
export interface ArchivedStanding {
  /** 1-based place in the closing standings. */
  readonly rank: number;
  /** 1–128 characters. */
  readonly memberId: string;
  /** A finite number. */
  readonly score: number;
  /** JSON text of the member's data, or null. */
  readonly data: string | null;
}

/** A closed and fully archived period of a leaderboard. */
export interface ArchivedPeriod {
  readonly board: string;
  /** When the period began (ms since the epoch); the period's id. */
  readonly periodStart: number;
  /** When it closed (ms since the epoch). */
  readonly periodEnd: number;
  /** Members archived (the closing standings may be cut to the board's `archiveTop`). */
  readonly members: number;
  /** When the archive was completed (ms since the epoch, the writer's clock). */
  readonly archivedAt: number;
}

/**
 * The closing standings of leaderboards whose periods ended (daily, weekly, season resets; see
 * @gos/leaderboard). Writes are idempotent: an archiver that died half-way is simply run again,
 * and rows written twice are written once. A period is listed by {@link periods} only once
 * {@link closePeriod} recorded it complete.
 *
 * Board names are 1–64 characters of `A–Z a–z 0–9 _ . -`; member ids 1–128 characters.
 * Every method rejects with `OPT_ERR_INVALID` for malformed arguments and `STO_ERR_CONNECTION`
 * as the store's other methods do.
 */
export interface LeaderboardArchive {
  /** Write rows of a closed period (any number, any order; a (board, period, rank) written again is overwritten with the same values). At most 10,000 rows a call. */
  writeStandings(board: string, periodStart: number, rows: readonly ArchivedStanding[]): Promise<void>;
  /** Record the period complete (idempotent: the first record is kept). */
  closePeriod(period: Omit<ArchivedPeriod, 'archivedAt'>): Promise<void>;
  /** The completed periods of `board`, newest first; at most `limit` (1–1,000). */
  periods(board: string, limit: number): Promise<ArchivedPeriod[]>;
  /** Rows of one period by rank, from `offset` (0-based), at most `limit` (1–1,000). */
  standings(board: string, periodStart: number, offset: number, limit: number): Promise<ArchivedStanding[]>;
  /** One member's row in a period, or null. */
  standing(board: string, periodStart: number, memberId: string): Promise<ArchivedStanding | null>;
}

/** One event of a player's log (`player.log(event, fields)` in scene code; docs/player-logs.md). */
export interface PlayerLogEntry {
  /** Who: the player the event is about. 1–255 characters. */
  readonly playerId: string;
  /** When: ms since the epoch, from the writing engine's clock. */
  readonly at: number;
  /** What: 1–64 characters of `A–Z a–z 0–9 _ . : -` (`item.bought`, `quest:done`). */
  readonly event: string;
  /** Where: the scene or service it happened in. 1–255 characters. */
  readonly sceneId: string;
  /** JSON text of the event's fields (an object), at most 4,096 bytes. */
  readonly fields: string;
}

/** A stored event: with the id the store gave it (increasing in insertion order). */
export interface StoredPlayerLog extends PlayerLogEntry {
  readonly id: number;
}

/** Which events of one player {@link PlayerLogStore.query} reads. */
export interface PlayerLogQuery {
  readonly playerId: string;
  /** Events at or after this time (ms). @default 0 */
  readonly from?: number;
  /** Events before this time (ms). @default no bound */
  readonly to?: number;
  /** Only this event name. */
  readonly event?: string;
  /** Events after this one in the order of the answer (paging): the last `{ at, id }` of the previous page. */
  readonly after?: { readonly at: number; readonly id: number };
  /** 1–10,000. */
  readonly limit: number;
}

/**
 * Player logs: structured events appended in batches by the engines (docs/player-logs.md),
 * read by player and time range from the admin side, pruned by age. Every method rejects with
 * `OPT_ERR_INVALID` for malformed arguments and `STO_ERR_CONNECTION` as the store's others do.
 */
export interface PlayerLogStore {
  /** Append events (1–10,000 a call) in one statement or transaction: all are written or none. */
  append(entries: readonly PlayerLogEntry[]): Promise<void>;
  /** One player's events, oldest first (by `at`, then `id`). */
  query(q: PlayerLogQuery): Promise<StoredPlayerLog[]>;
  /** Delete events older than `before` (ms), at most `limit` (1–100,000) of them: how many went. */
  prune(before: number, limit: number): Promise<number>;
}

/** A published config bundle (docs/config-data.md). */
export interface PublishedConfig {
  /** Increases with every publish: the latest is the one in force. */
  readonly seq: number;
  /** The bundle's own version (a content hash from `npm run config`). 1–64 characters. */
  readonly version: string;
  /** The bundle, as JSON text. */
  readonly content: string;
  /** When it was published (ms since the epoch, the publisher's clock). */
  readonly publishedAt: number;
}

/**
 * Config bundles published for the engines to load (docs/config-data.md): every publish is kept
 * (a history, and a way back: publish an older one again). Every method rejects with
 * `OPT_ERR_INVALID` for malformed arguments and `STO_ERR_CONNECTION` as the store's others do.
 */
export interface ConfigBundleStore {
  /** Store a bundle (content: JSON text of at most 16 MiB) as the latest: its seq. */
  publish(version: string, content: string): Promise<number>;
  /** The seq of the latest bundle, 0 when none was published (a cheap poll). */
  latestSeq(): Promise<number>;
  /** The latest bundle, or null. */
  latest(): Promise<PublishedConfig | null>;
}

/** A mail as sent (docs/mail.md). */
export interface NewMail {
  /** Who it is from, as shown to the player (`system`, a game master's name): 1–64 characters. */
  readonly from: string;
  /** 1–200 characters. */
  readonly subject: string;
  /** 0–4,000 characters. */
  readonly body: string;
  /**
   * JSON text of what the game attaches (items, currency: the game's claim hook gives it meaning),
   * at most 16,384 bytes; null for a mail without attachments.
   */
  readonly attachments: string | null;
  /** When it expires (ms since the epoch): after that it is neither listed nor claimable. null: never. */
  readonly expiresAt: number | null;
}

/** Who a mail goes to: players (1–10,000 distinct ids of 1–255 characters), or every player, now and later, until it expires. */
export type MailRecipients = { readonly players: readonly string[] } | { readonly everyone: true };

/** A mail as one player sees it. */
export interface MailItem {
  /** Given by the store, increasing with every mail sent. */
  readonly mailId: number;
  readonly from: string;
  readonly subject: string;
  readonly body: string;
  readonly attachments: string | null;
  /** When it was sent (ms since the epoch, the sender's clock). */
  readonly sentAt: number;
  readonly expiresAt: number | null;
  /** Sent to everyone (stored once) rather than to this player. */
  readonly broadcast: boolean;
  /** When this player read it, or null. */
  readonly readAt: number | null;
  /** When this player claimed its attachments, or null. */
  readonly claimedAt: number | null;
}

/** Which mail of one player {@link MailStore.list} reads. */
export interface MailQuery {
  readonly playerId: string;
  /** Mail older than this one (paging: the last `mailId` of the previous page). @default no bound */
  readonly before?: number;
  /** Only mail this player has not read. @default false */
  readonly unreadOnly?: boolean;
  /** 1–100. */
  readonly limit: number;
  /** The time expiry is judged at (ms since the epoch). @default Date.now() */
  readonly now?: number;
}

/**
 * Players' mailboxes (docs/mail.md). A mail to many players or to everyone is stored once; each
 * player's read, claimed and deleted marks are kept per player. Claiming attachments goes with
 * the player's own write ({@link SaveEntry.mailClaims}), so a claim and what it granted are saved
 * together or not at all. Every method rejects with `OPT_ERR_INVALID` for malformed arguments
 * and `STO_ERR_CONNECTION` as the store's others do.
 */
export interface MailStore {
  /** Store a mail for its recipients in one transaction: its id. `sentAt` is the store's caller's clock. */
  send(to: MailRecipients, mail: NewMail, sentAt: number): Promise<number>;
  /** The player's mail, newest first: not deleted by it, not expired at `now`. */
  list(q: MailQuery): Promise<MailItem[]>;
  /** One mail of the player (deleted or expired ones included, so a caller can say why it cannot be claimed), or null when it is not the player's. */
  get(playerId: string, mailId: number): Promise<(MailItem & { readonly deletedAt: number | null }) | null>;
  /** How many mails the player has (listed ones) and how many of those it has not read. */
  counts(playerId: string, now?: number): Promise<{ readonly total: number; readonly unread: number }>;
  /** Mark mails read (1–100 ids; ones that are not the player's, or already read, are skipped): how many changed. */
  markRead(playerId: string, mailIds: readonly number[], at: number): Promise<number>;
  /** Delete mails from the player's box (1–100 ids; claimed or not; ones that are not its, or already deleted, are skipped): how many changed. */
  delete(playerId: string, mailIds: readonly number[], at: number): Promise<number>;
  /** The id of the last mail sent (0: none yet): where a poll of {@link broadcasts} starts. */
  lastMailId(): Promise<number>;
  /**
   * Mail to everyone sent after mail `afterMailId`, oldest first, not expired at `now` (default
   * Date.now()), at most `limit` (1–1,000); `readAt` and `claimedAt` are null (they are each
   * player's). Engines poll it to tell their players online that a broadcast arrived.
   */
  broadcasts(afterMailId: number, limit: number, now?: number): Promise<MailItem[]>;
  /**
   * Remove mails that expired before `before` (ms), with every player's marks on them, at most
   * `limit` (1–100,000) mails: how many went. Deleted marks of mails not expired stay (they hide the mail).
   */
  prune(before: number, limit: number): Promise<number>;
}
