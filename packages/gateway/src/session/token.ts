import { createHash, randomBytes } from 'node:crypto';
import { CodedError, ErrorCodes } from '@gos/schema';
import { isGroupId } from '@gos/store';

/** Random bytes per token: 256 bits, twice the 128-bit floor. */
export const SESSION_TOKEN_BYTES = 32;

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export function newSessionToken(): string {
  return randomBytes(SESSION_TOKEN_BYTES).toString('base64url');
}

/** Cheap shape check so garbage never reaches the backend. */
export function isWellFormedSessionToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_RE.test(token);
}

/**
 * The id a token is stored under: sha256 of the token, 64 lower-case hex characters. A dump of
 * the store shows ids, which cannot be turned back into usable tokens.
 */
export function sessionTokenId(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** @internal */
export function optionError(option: string, why: string): never {
  throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `session store option "${option}" ${why}`);
}

/** @internal */
export function intOption(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) optionError(name, `must be an integer ≥ ${min}, got ${String(value)}`);
  return v;
}

/** @internal */
export function closedError(): CodedError {
  return new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, 'session store is closed');
}

/** @internal */
export function expiredError(): CodedError {
  return new CodedError(ErrorCodes.GW_ERR_SESSION_EXPIRED, 'session is unknown, revoked or expired');
}

/** @internal Default sliding lifetime: 30 minutes. */
export const DEFAULT_SESSION_TTL_MS = 30 * 60_000;

/** @internal A group id, checked the same way by every store. */
export function checkGroupId(groupId: unknown): string {
  if (!isGroupId(groupId)) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'groupId must be 1–64 characters of A–Z a–z 0–9 _ . : -');
  return groupId;
}

/** @internal A gateway id (any non-empty string up to 255 characters). */
export function checkGatewayId(name: string, gatewayId: unknown): string {
  if (typeof gatewayId !== 'string' || gatewayId.length === 0 || gatewayId.length > 255) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `${name} must be a gateway id (1–255 characters)`);
  }
  return gatewayId;
}

/** @internal The group of a new session: null when absent; malformed is refused. */
export function sessionGroup(groupId: unknown): string | null {
  return groupId === undefined || groupId === null ? null : checkGroupId(groupId);
}

/** @internal The arguments of `coolDown`: an account id and a positive whole number of milliseconds. */
export function checkCooldown(accountId: unknown, ms: unknown): void {
  if (typeof accountId !== 'string' || accountId.length === 0 || accountId.length > 255) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'coolDown: accountId must be an account id (1–255 characters)');
  }
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `coolDown: ms must be a positive integer, got ${String(ms)}`);
}
