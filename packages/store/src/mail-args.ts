/**
 * The arguments of `MailStore` and of `SaveEntry.mailClaims` (types.ts), checked in one place for
 * both stores: each function returns the values as the store writes or binds them, or throws
 * `OPT_ERR_INVALID` naming the bad one.
 */
import { CodedError, ErrorCodes } from '@gos/schema';
import { checkKey, checkObject, checkTime, invalid, optionalBool } from './common.js';
import type { RecordKind } from './types.js';
import type { NewMail } from './service-types.js';

/** Most distinct players one `send` goes to. */
export const MAX_MAIL_RECIPIENTS = 10_000;
/** Most mail ids one `markRead` / `delete` call or one save's `mailClaims` takes. */
export const MAX_MAIL_IDS = 100;
/** Most mails one `list` returns. */
export const MAX_MAIL_PAGE = 100;
/** Most mails one `prune` call removes. */
export const MAX_MAIL_PRUNE = 100_000;
/** Longest `from`, in UTF-16 code units. */
export const MAX_FROM_LENGTH = 64;
/** Longest `subject`, in UTF-16 code units. */
export const MAX_SUBJECT_LENGTH = 200;
/** Longest `body`, in UTF-16 code units. */
export const MAX_BODY_LENGTH = 4000;
/** Largest `attachments` text, in bytes of UTF-8. */
export const MAX_ATTACHMENTS_BYTES = 16_384;

/** Above every mail id (a safe integer): the bound of a `list` without `before`. */
export const NO_MAIL_BOUND = Number.MAX_SAFE_INTEGER + 1;

/** Who a checked `send` goes to: the distinct players in the order first given, or everyone (`null`). */
export type CheckedRecipients = readonly string[] | null;

/** A string of `min`–`max` UTF-16 code units of well-formed Unicode. */
function checkText(what: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) throw invalid(`${what} must be a string of ${min}–${max} characters`);
  // MySQL's utf8mb4 cannot hold lone surrogates; refusing them keeps both stores identical.
  if (!value.isWellFormed()) throw invalid(`${what} must be well-formed Unicode`);
  return value;
}

/** A mail's attachments: null, or JSON text of at most {@link MAX_ATTACHMENTS_BYTES} bytes, returned exactly as given. */
export function checkAttachments(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw invalid('mail.attachments must be JSON text or null');
  if (!value.isWellFormed()) throw invalid('mail.attachments must be well-formed Unicode');
  // Measured before parsing, so an oversized text costs no parse.
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > MAX_ATTACHMENTS_BYTES) throw invalid(`mail.attachments must be at most ${MAX_ATTACHMENTS_BYTES} bytes of UTF-8, got ${bytes}`);
  try {
    JSON.parse(value);
  } catch (err) {
    throw invalid(`mail.attachments is not JSON: ${(err as Error).message}`);
  }
  return value;
}

/** The mail of a `send` call, copied (the caller's object is never written to or kept). */
export function checkNewMail(mail: unknown): NewMail {
  const m = checkObject('mail', mail);
  const expiresAt = m['expiresAt'];
  return {
    from: checkText('mail.from', m['from'], 1, MAX_FROM_LENGTH),
    subject: checkText('mail.subject', m['subject'], 1, MAX_SUBJECT_LENGTH),
    body: checkText('mail.body', m['body'], 0, MAX_BODY_LENGTH),
    attachments: checkAttachments(m['attachments']),
    expiresAt: expiresAt === null ? null : checkTime('mail.expiresAt', expiresAt),
  };
}

/** The recipients of a `send` call: 1–{@link MAX_MAIL_RECIPIENTS} distinct player ids, or everyone. */
export function checkRecipients(to: unknown): CheckedRecipients {
  const r = checkObject('to', to);
  const players = r['players'];
  const everyone = r['everyone'];
  if (players !== undefined && everyone !== undefined) throw invalid('to names either players or everyone, not both');
  if (everyone !== undefined) {
    if (everyone !== true) throw invalid('to.everyone must be true');
    return null;
  }
  if (!Array.isArray(players)) throw invalid('to must be { players: [...] } or { everyone: true }');
  const distinct = [...new Set(players.map((id: unknown, i) => checkKey(`to.players[${i}]`, id)))];
  if (distinct.length === 0 || distinct.length > MAX_MAIL_RECIPIENTS) throw invalid(`to.players must name 1–${MAX_MAIL_RECIPIENTS} distinct players, got ${distinct.length}`);
  return distinct;
}

/** A mail id: a positive safe integer. */
export function checkMailId(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw invalid(`${what} must be a positive safe integer`);
  return value;
}

/** The ids of a `markRead` / `delete` call: 1–{@link MAX_MAIL_IDS} of them, distinct, ascending (one lock order for every caller). */
export function checkMailIds(ids: unknown): number[] {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_MAIL_IDS) throw invalid(`mailIds must be an array of 1–${MAX_MAIL_IDS} mail ids`);
  const distinct = new Set(ids.map((id: unknown, i) => checkMailId(`mailIds[${i}]`, id)));
  return [...distinct].sort((a, b) => a - b);
}

/**
 * A SaveEntry's optional `mailClaims`: players only, at most {@link MAX_MAIL_IDS} distinct mail
 * ids, returned ascending (one lock order for every writer); undefined when there is none to claim.
 * A mail named twice is refused: the write would claim it twice.
 */
export function checkMailClaims(kind: RecordKind, value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  if (kind !== 'player') throw invalid('only player entries carry mailClaims');
  if (!Array.isArray(value) || value.length > MAX_MAIL_IDS) throw invalid(`mailClaims must be an array of at most ${MAX_MAIL_IDS} mail ids`);
  const ids = value.map((id: unknown, i) => checkMailId(`mailClaims[${i}]`, id));
  const distinct = new Set(ids);
  if (distinct.size !== ids.length) throw invalid('mailClaims names a mail more than once');
  return ids.length === 0 ? undefined : [...distinct].sort((a, b) => a - b);
}

/** What a `list` binds. */
export interface MailListArgs {
  readonly playerId: string;
  /** Mails with an id below this one. */
  readonly before: number;
  readonly unreadOnly: boolean;
  readonly limit: number;
  /** Mails that expire before this time are not listed. */
  readonly now: number;
}

export function checkMailQuery(query: unknown): MailListArgs {
  const q = checkObject('query', query);
  const limit = q['limit'];
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_MAIL_PAGE) throw invalid(`limit must be an integer 1–${MAX_MAIL_PAGE}`);
  return {
    playerId: checkKey('playerId', q['playerId']),
    before: checkBefore(q['before']),
    unreadOnly: optionalBool('unreadOnly', q['unreadOnly'], false),
    limit,
    now: checkNow(q['now']),
  };
}

/** A `list`'s `before`: a non-negative safe integer (0 lists nothing), or no bound. */
function checkBefore(before: unknown): number {
  if (before === undefined) return NO_MAIL_BOUND;
  if (typeof before !== 'number' || !Number.isSafeInteger(before) || before < 0) throw invalid('before must be a mail id (a non-negative safe integer)');
  return before;
}

/** The time expiry is judged at: `now` as given, or this process's clock. */
export function checkNow(now: unknown): number {
  return now === undefined ? Date.now() : checkTime('now', now);
}

/** Most broadcasts one {@link MailStore.broadcasts} call returns. */
export const MAX_BROADCASTS = 1000;

/** A `broadcasts` limit: 1–{@link MAX_BROADCASTS}. */
export function checkBroadcastLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_BROADCASTS) throw invalid(`limit must be an integer 1–${MAX_BROADCASTS}`);
  return limit;
}

/** A `broadcasts` cursor: 0 or a mail id. */
export function checkAfterMailId(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid('afterMailId must be 0 or a mail id (a non-negative safe integer)');
  return value;
}

/** A `prune` limit: 1–{@link MAX_MAIL_PRUNE}. */
export function checkMailPruneLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_MAIL_PRUNE) throw invalid(`limit must be an integer 1–${MAX_MAIL_PRUNE}`);
  return limit;
}

/** The refusal of a save whose `mailClaims` names a mail it cannot claim. */
export function notClaimable(playerId: string, mailIds: readonly number[]): CodedError {
  return new CodedError(
    ErrorCodes.MAIL_ERR_NOT_CLAIMABLE,
    `player ${JSON.stringify(playerId)}: mail ${mailIds.join(', ')} cannot be claimed (not its mail, no attachments, or claimed already); nothing of this save was written`,
  );
}

