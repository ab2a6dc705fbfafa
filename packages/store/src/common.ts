import { randomUUID } from 'node:crypto';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { AccountRecord, NewAccount, RecordKind, SharedChanges, SharedRow, TimerChanges, TimerRecord } from './types.js';

/** Longest id or username accepted, in UTF-16 code units (so it also fits 255 characters). */
export const MAX_KEY_LENGTH = 255;
/** Byte size of the binary key columns in MySQL (255 characters × 4 bytes). */
export const MAX_KEY_BYTES = 1020;

/**
 * Table of each record kind. The only identifiers ever interpolated into SQL come from this
 * constant map; every value is a bound parameter.
 */
export const TABLE_OF: Readonly<Record<RecordKind, 'players' | 'scenes'>> = Object.freeze({ player: 'players', scene: 'scenes' });

export function invalid(message: string): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, message);
}

export function isRecordKind(kind: unknown): kind is RecordKind {
  return kind === 'player' || kind === 'scene';
}

/** A key (an id, a name): 1–255 characters of well-formed Unicode. `what` names it in the error. */
export function checkKey(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) {
    throw invalid(`${what} must be a string of 1–${MAX_KEY_LENGTH} characters`);
  }
  // MySQL's utf8mb4 cannot hold lone surrogates; refusing them keeps both stores identical.
  if (!value.isWellFormed()) throw invalid(`${what} must be well-formed Unicode`);
  return value;
}

export function checkId(kind: RecordKind, id: unknown): string {
  return checkKey(`${kind} id`, id);
}

/** The distinct player ids of a {@link Store.claimPlayers} call, in the order first given. */
export function checkClaimBatch(ids: unknown, max: number): string[] {
  if (!Array.isArray(ids)) throw invalid('claimPlayers takes an array of player ids');
  const distinct = [...new Set(ids.map((id: unknown) => checkId('player', id)))];
  if (distinct.length > max) throw invalid(`claimPlayers takes at most ${max} ids, got ${distinct.length}`);
  return distinct;
}

/** A SaveEntry's optional `sceneId`: undefined, or a 1–255 character key. */
export function checkSceneRef(sceneId: unknown): string | undefined {
  return sceneId === undefined ? undefined : checkKey('sceneId', sceneId);
}

export function checkUsername(username: unknown): string {
  return checkKey('username', username);
}

/**
 * The comparison key that makes usernames unique case-insensitively: NFC, then Unicode
 * lower case (locale-independent). Stored in its own column with a binary unique index, so
 * both databases compare it byte for byte (no collation rules, no trailing-space padding).
 */
export function usernameKey(username: string): string {
  const key = username.normalize('NFC').toLowerCase();
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw invalid('username is too long');
  return key;
}

/**
 * The key to look a username up by, or null for a string that cannot be a registered name
 * (empty, too long, ill-formed): such a lookup finds nothing rather than failing, since login
 * forms pass user input straight through.
 */
export function lookupKey(username: unknown): string | null {
  if (typeof username !== 'string') throw invalid('username must be a string');
  if (username.length === 0 || username.length > MAX_KEY_LENGTH || !username.isWellFormed()) return null;
  const key = username.normalize('NFC').toLowerCase();
  return Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES ? null : key;
}

/**
 * `accountId` as given, or null when it cannot be one the store generated (account ids are
 * ASCII UUIDs; MySQL stores them in an ASCII column that a non-ASCII operand cannot be compared with).
 */
export function accountLookup(accountId: unknown): string | null {
  if (typeof accountId !== 'string') throw invalid('accountId must be a string');
  return /^[\x21-\x7e]{1,36}$/.test(accountId) ? accountId : null;
}

/** A group id: 1–64 characters of `A–Z a–z 0–9 _ . : -` (safe in any key or URL without escaping). */
const GROUP_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Whether `value` is a well-formed group id ({@link AccountRecord.groupId}). */
export function isGroupId(value: unknown): value is string {
  return typeof value === 'string' && GROUP_ID.test(value);
}

/** A group id or null (no group); `undefined` counts as null. */
export function checkGroupId(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (!isGroupId(value)) throw invalid('groupId must be null or 1–64 characters of A–Z a–z 0–9 _ . : -');
  return value;
}

export function checkVersion(expectedVersion: unknown): number {
  if (typeof expectedVersion !== 'number' || !Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw invalid('expectedVersion must be a non-negative safe integer');
  }
  return expectedVersion;
}

export function encodeData(data: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `data cannot be serialised as JSON: ${(err as Error).message}`, { cause: err });
  }
  // JSON.stringify returns undefined for undefined, functions and symbols.
  if (typeof text !== 'string') throw invalid('data must be a JSON value (got undefined, a function or a symbol)');
  return text;
}

export function decodeData(text: string): unknown {
  return JSON.parse(text) as unknown;
}

export function staleVersion(kind: RecordKind, id: string, expected: number, current: number): CodedError {
  return new CodedError(
    ErrorCodes.STO_ERR_STALE_VERSION,
    `${kind} ${JSON.stringify(id)}: expected version ${expected}, the row is at version ${current}`,
  );
}

export function duplicateUsername(username: string, cause?: unknown): CodedError {
  return new CodedError(ErrorCodes.STO_ERR_DUPLICATE, `username ${JSON.stringify(username)} is taken`, { cause });
}

export function notRunning(closed: boolean): CodedError {
  return new CodedError(ErrorCodes.STO_ERR_CONNECTION, closed ? 'store is closed' : 'store is not started');
}

export function checkObject(name: string, o: unknown): Record<string, unknown> {
  if (typeof o !== 'object' || o === null) throw invalid(`${name} must be an object`);
  return o as Record<string, unknown>;
}

export function optionalInt(name: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be an integer ≥ ${min}`);
  }
  return value;
}

export function optionalBool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${name} must be a boolean`);
  return value;
}

/**
 * Runs operations and lets `close()` wait for those in flight, so a final flush that started
 * before shutdown still lands.
 */
export class InFlight {
  readonly #pending = new Set<Promise<unknown>>();

  track<T>(op: Promise<T>): Promise<T> {
    this.#pending.add(op);
    const forget = (): void => {
      this.#pending.delete(op);
    };
    op.then(forget, forget);
    return op;
  }

  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}

export function fenced(kind: RecordKind, id: string, fence: number, current: number): CodedError {
  return new CodedError(
    ErrorCodes.STO_ERR_FENCED,
    `${kind} ${JSON.stringify(id)}: written with fencing token ${fence}, but the row was claimed since (token ${current}): another engine owns it now`,
  );
}

/**
 * Why a conditional write matched no row, from the row's state read back (undefined: no row).
 * A moved fence wins over a moved version: the writer has lost the record, not just a race.
 */
export function saveConflict(kind: RecordKind, id: string, expected: number, fence: number | undefined, row: { version: number; fence: number } | undefined): CodedError {
  if (fence !== undefined && row !== undefined && row.fence !== fence) return fenced(kind, id, fence, row.fence);
  return staleVersion(kind, id, expected, row?.version ?? 0);
}

/** A fencing token: a positive safe integer, or undefined (no fence check). */
export function checkFence(fence: unknown): number | undefined {
  if (fence === undefined) return undefined;
  if (typeof fence !== 'number' || !Number.isSafeInteger(fence) || fence < 1) throw invalid(`fence must be a positive safe integer, got ${String(fence)}`);
  return fence;
}

/**
 * The account `createAccount` inserts, from its validated input, and the key its name is unique
 * under. @throws CodedError `STO_ERR_INVALID` naming the bad field.
 */
export function newAccount(input: NewAccount): { account: AccountRecord; key: string } {
  const i = checkObject('createAccount input', input);
  const username = checkUsername(i.username);
  if (typeof i.passwordHash !== 'string') throw invalid('passwordHash must be a string');
  if (i.guest !== undefined && typeof i.guest !== 'boolean') throw invalid('guest must be a boolean');
  const account: AccountRecord = {
    accountId: randomUUID(),
    username,
    passwordHash: i.passwordHash,
    createdAt: Date.now(),
    guest: i.guest === true,
    groupId: checkGroupId(i.groupId),
  };
  return { account, key: usernameKey(username) };
}

/** Most timer writes of each kind one save may carry. */
export const MAX_TIMER_CHANGES = 1_000_000;
const TIMER_ID = /^[\x21-\x7e]{1,64}$/;

/** The owner id of an entry's timers in the timers table: the scene's id, or `@` and the player's id. */
export function timerOwner(kind: RecordKind, id: string): string {
  return kind === 'player' ? `@${id}` : id;
}

/** A SaveEntry's optional `timers`, checked. */
export function checkTimerChanges(_kind: RecordKind, value: unknown): TimerChanges | undefined {
  if (value === undefined) return undefined;
  const changes = checkObject('timers', value);
  const set = changes['set'];
  const del = changes['delete'];
  if (!Array.isArray(set) || !Array.isArray(del)) throw invalid('timers must have set and delete arrays');
  if (set.length > MAX_TIMER_CHANGES || del.length > MAX_TIMER_CHANGES) throw invalid(`timers: at most ${MAX_TIMER_CHANGES} of each per save`);
  return {
    set: set.map((t: unknown): TimerRecord => {
      const r = checkObject('timer', t);
      const dueAt = r['dueAt'];
      if (typeof dueAt !== 'number' || !Number.isSafeInteger(dueAt) || dueAt < 0) throw invalid('timer dueAt must be a non-negative integer (ms since the epoch)');
      const id = r['id'];
      if (typeof id !== 'string' || !TIMER_ID.test(id)) throw invalid('timer id must be 1–64 printable ASCII characters');
      const payload = r['payload'];
      if (typeof payload !== 'string') throw invalid('timer payload must be JSON text');
      return { name: checkKey('timer name', r['name']), dueAt, id, payload };
    }),
    delete: del.map((name: unknown) => checkKey('timer name', name)),
  };
}

/** A `dueTimers` limit: 1–10,000. */
export function checkLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) throw invalid('limit must be an integer 1–10000');
  return limit;
}

/** A time in ms since the epoch. */
export function checkTime(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be a non-negative integer (ms since the epoch)`);
  return value;
}

/** A SaveEntry's optional `shared`, checked; only scenes carry shared writes. */
export function checkSharedChanges(kind: RecordKind, value: unknown): SharedChanges[] | undefined {
  if (value === undefined) return undefined;
  if (kind !== 'scene') throw invalid('only scene entries carry shared writes');
  if (!Array.isArray(value)) throw invalid('shared must be an array');
  let total = 0;
  return value.map((c: unknown): SharedChanges => {
    const o = checkObject('shared changes', c);
    const rows = o['rows'];
    if (!Array.isArray(rows)) throw invalid('shared changes need rows');
    total += rows.length;
    if (total > MAX_TIMER_CHANGES) throw invalid(`shared: at most ${MAX_TIMER_CHANGES} rows per save`);
    return {
      table: checkKey('shared table', o['table']),
      rows: rows.map((r: unknown): SharedRow => {
        const row = checkObject('shared row', r);
        const v = row['value'];
        if (v !== null && typeof v !== 'string') throw invalid('shared row value must be JSON text or null');
        return { key: checkKey('shared key', row['key']), value: v, version: checkTime('shared row version', row['version']) };
      }),
    };
  });
}
