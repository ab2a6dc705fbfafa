/**
 * The arguments of `PlayerLogStore` (types.ts), checked in one place for both stores: each
 * function returns the values as the store writes or binds them, or throws `OPT_ERR_INVALID`
 * naming the bad one.
 */
import { checkKey, checkLimit, checkObject, checkTime, invalid } from './common.js';
import type { PlayerLogEntry } from './service-types.js';

/** Most events one `append` call takes. */
export const MAX_LOG_APPEND = 10_000;
/** Most events one `prune` call deletes. */
export const MAX_LOG_PRUNE = 100_000;
/** Largest `fields` text, in bytes of UTF-8. */
export const MAX_FIELDS_BYTES = 4096;

/** An event name: ASCII only, so it needs no escaping in a key, a URL or a log line. */
const EVENT = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Above every `at` a store holds (a safe integer): the upper bound of a query without `to`. */
const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER + 1;

export function checkEvent(what: string, event: unknown): string {
  if (typeof event !== 'string' || !EVENT.test(event)) throw invalid(`${what} must be 1–64 characters of A–Z a–z 0–9 _ . : -`);
  return event;
}

/** JSON text of an object, at most {@link MAX_FIELDS_BYTES} bytes; returned exactly as given. */
export function checkFields(what: string, fields: unknown): string {
  if (typeof fields !== 'string') throw invalid(`${what} must be JSON text of an object`);
  // MySQL's utf8mb4 cannot hold lone surrogates; refusing them keeps both stores identical.
  if (!fields.isWellFormed()) throw invalid(`${what} must be well-formed Unicode`);
  // Measured before parsing, so an oversized text costs no parse.
  const bytes = Buffer.byteLength(fields, 'utf8');
  if (bytes > MAX_FIELDS_BYTES) throw invalid(`${what} must be at most ${MAX_FIELDS_BYTES} bytes of UTF-8, got ${bytes}`);
  let value: unknown;
  try {
    value = JSON.parse(fields);
  } catch (err) {
    throw invalid(`${what} is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be a JSON object`);
  return fields;
}

/** The entries of an `append` call, copied (the caller's objects are never written to or kept). */
export function checkLogEntries(entries: unknown): PlayerLogEntry[] {
  if (!Array.isArray(entries)) throw invalid('entries must be an array');
  if (entries.length === 0 || entries.length > MAX_LOG_APPEND) throw invalid(`append takes 1–${MAX_LOG_APPEND} entries a call, got ${entries.length}`);
  return entries.map((value: unknown, i): PlayerLogEntry => {
    const e = checkObject(`entries[${i}]`, value);
    return {
      playerId: checkKey(`entries[${i}].playerId`, e['playerId']),
      at: checkTime(`entries[${i}].at`, e['at']),
      event: checkEvent(`entries[${i}].event`, e['event']),
      sceneId: checkKey(`entries[${i}].sceneId`, e['sceneId']),
      fields: checkFields(`entries[${i}].fields`, e['fields']),
    };
  });
}

/**
 * What a `query` binds. Both bounds on `at` are always there (an index range on (player_id, at)
 * whatever the query), and so is the paging condition: one statement serves every query.
 */
export interface LogQueryArgs {
  readonly playerId: string;
  /** `at >= lower`: `from`, or the `after` event's time when that is later. */
  readonly lower: number;
  /** `at < upper`: `to`, or above every time. */
  readonly upper: number;
  /** Rows after (`afterAt`, `afterId`) in (at, id) order; (-1, 0) without `after`, which every row is after. */
  readonly afterAt: number;
  readonly afterId: number;
  /** Only this event name; null for any. */
  readonly event: string | null;
  readonly limit: number;
}

export function checkLogQuery(query: unknown): LogQueryArgs {
  const q = checkObject('query', query);
  const playerId = checkKey('playerId', q['playerId']);
  const from = q['from'] === undefined ? 0 : checkTime('from', q['from']);
  const upper = q['to'] === undefined ? NO_UPPER_BOUND : checkTime('to', q['to']);
  const event = q['event'] === undefined ? null : checkEvent('event', q['event']);
  let afterAt = -1;
  let afterId = 0;
  if (q['after'] !== undefined) {
    const after = checkObject('after', q['after']);
    afterAt = checkTime('after.at', after['at']);
    const id = after['id'];
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw invalid('after.id must be a non-negative safe integer');
    afterId = id;
  }
  return { playerId, lower: Math.max(from, afterAt), upper, afterAt, afterId, event, limit: checkLimit(q['limit']) };
}

/** A `prune` limit: 1–{@link MAX_LOG_PRUNE}. */
export function checkPruneLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LOG_PRUNE) throw invalid(`limit must be an integer 1–${MAX_LOG_PRUNE}`);
  return limit;
}
