/** `scene.mail`: players' mailboxes, as scene and service code sees them (docs/mail.md). */
import type { Player } from './api.js';

/** Who a mail goes to: players (1–10,000 ids), or every player, now and later, until it expires (stored once). */
export type MailTo = { readonly players: readonly string[] } | { readonly everyone: true };

/** A mail to send. */
export interface MailInput {
  /** Who it is from, as shown to the player: 1–64 characters. @default 'system' */
  readonly from?: string;
  /** 1–200 characters. */
  readonly subject: string;
  /** 0–4,000 characters. @default '' */
  readonly body?: string;
  /**
   * What the game attaches (items, currency), any JSON value of at most 16 KiB as JSON; the
   * scene type's `onMailClaim` gives it meaning. Absent or null: nothing to claim.
   */
  readonly attachments?: unknown;
  /** When it expires (ms since the epoch): then it is neither listed nor claimable. @default never */
  readonly expiresAt?: number | null;
  /** Or: how long from now it lasts (ms). */
  readonly expiresInMs?: number;
}

/** A mail as one player sees it. */
export interface Mail {
  readonly mailId: number;
  readonly from: string;
  readonly subject: string;
  readonly body: string;
  /** As sent (a JSON value), or null. */
  readonly attachments: unknown;
  /** When it was sent (ms since the epoch). */
  readonly sentAt: number;
  readonly expiresAt: number | null;
  /** Sent to everyone rather than to this player. */
  readonly broadcast: boolean;
  /** When the player read it (`read`), or null. */
  readonly readAt: number | null;
  /** When the player claimed its attachments, or null. */
  readonly claimedAt: number | null;
}

export interface MailListOptions {
  /** Mail older than this one (paging: the last `mailId` of the previous page). */
  readonly before?: number;
  /** Only mail the player has not read. @default false */
  readonly unreadOnly?: boolean;
  /** 1–100. @default 20 */
  readonly limit?: number;
}

/**
 * The mailboxes, from scenes and services. Every method runs on the engine's main thread over
 * the store; arguments are checked there (`OPT_ERR_INVALID`). Methods that wait for the store
 * cannot be used from onCreate.
 */
export interface SceneMail {
  /** Store a mail for its recipients (in one transaction) and push the core MailArrived to the ones online: its id. */
  send(to: MailTo, mail: MailInput): Promise<number>;
  /** The player's mail, newest first: neither deleted nor expired. */
  list(playerId: string, options?: MailListOptions): Promise<Mail[]>;
  /** One mail of the player, or null when it is not its mail or it deleted it. Expired mail is returned (with its `expiresAt`). */
  get(playerId: string, mailId: number): Promise<Mail | null>;
  /** How many mails the player has (as listed), and how many it has not read. */
  counts(playerId: string): Promise<{ readonly total: number; readonly unread: number }>;
  /** Mark mails read (1–100 ids; others' and already read ones are skipped): how many changed. */
  read(playerId: string, mailIds: readonly number[]): Promise<number>;
  /** Delete mails from the player's box (1–100 ids; unclaimed attachments go with them): how many changed. */
  delete(playerId: string, mailIds: readonly number[]): Promise<number>;
  /**
   * Claim a mail's attachments for `player`, a player in this scene: the scene type's
   * `onMailClaim` applies them to the player's data, and the claim is saved together with that
   * data, in one transaction, exactly once (docs/mail.md). Resolves with the mail (its
   * `claimedAt` set) once both are saved.
   * @throws CodedError `MAIL_ERR_NOT_FOUND` (not its mail, or deleted), `MAIL_ERR_NOT_CLAIMABLE`
   *   (no attachments, already claimed, expired), `MAIL_ERR_CLAIMING` (a claim of this mail is
   *   under way), `MAIL_ERR_NO_HOOK` (the scene type has no onMailClaim), what onMailClaim
   *   threw (its changes to the player's data are undone), `ENG_ERR_CALL_TIMEOUT` (no word from
   *   the store within 30 s: the claim is then saved with the data or not at all)
   */
  claim(player: Player<unknown, Record<string, unknown>>, mailId: number): Promise<Mail>;
}
