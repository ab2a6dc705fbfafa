/**
 * The arguments of `LeaderboardArchive` (types.ts), checked in one place for both stores: each
 * function returns the value as the store writes it, or throws `OPT_ERR_INVALID` naming it.
 */
import { checkObject, checkTime, invalid } from './common.js';
import type { ArchivedPeriod, ArchivedStanding } from './service-types.js';

/** Most rows one `writeStandings` call takes. */
export const MAX_STANDINGS_WRITE = 10_000;
/** Most rows or periods one read returns. */
export const MAX_ARCHIVE_PAGE = 1_000;
/** Longest member id, in UTF-16 code units (at most 384 bytes of UTF-8: MySQL's column holds 512). */
export const MAX_MEMBER_ID_LENGTH = 128;

/** A board name: ASCII only, so it needs no escaping in a key, a URL or a log line. */
const BOARD = /^[A-Za-z0-9_.-]{1,64}$/;

export function checkBoard(board: unknown): string {
  if (typeof board !== 'string' || !BOARD.test(board)) throw invalid('board must be 1–64 characters of A–Z a–z 0–9 _ . -');
  return board;
}

export function checkMemberId(what: string, memberId: unknown): string {
  if (typeof memberId !== 'string' || memberId.length === 0 || memberId.length > MAX_MEMBER_ID_LENGTH) {
    throw invalid(`${what} must be a string of 1–${MAX_MEMBER_ID_LENGTH} characters`);
  }
  // MySQL's utf8mb4 cannot hold lone surrogates; refusing them keeps both stores identical.
  if (!memberId.isWellFormed()) throw invalid(`${what} must be well-formed Unicode`);
  return memberId;
}

/** A count or an offset: a non-negative safe integer. */
export function checkCount(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be a non-negative safe integer`);
  return value;
}

/** A page size: 1–{@link MAX_ARCHIVE_PAGE}. */
export function checkPageLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_ARCHIVE_PAGE) throw invalid(`limit must be an integer 1–${MAX_ARCHIVE_PAGE}`);
  return limit;
}

/** The rows of a `writeStandings` call, copied (the caller's objects are never written to or kept). */
export function checkStandings(rows: unknown): ArchivedStanding[] {
  if (!Array.isArray(rows)) throw invalid('rows must be an array');
  if (rows.length > MAX_STANDINGS_WRITE) throw invalid(`writeStandings takes at most ${MAX_STANDINGS_WRITE} rows a call, got ${rows.length}`);
  return rows.map((value: unknown, i): ArchivedStanding => {
    const row = checkObject(`rows[${i}]`, value);
    const rank = row['rank'];
    if (typeof rank !== 'number' || !Number.isSafeInteger(rank) || rank < 1) throw invalid(`rows[${i}].rank must be a safe integer ≥ 1`);
    const score = row['score'];
    if (typeof score !== 'number' || !Number.isFinite(score)) throw invalid(`rows[${i}].score must be a finite number`);
    const data = row['data'];
    if (data !== null && typeof data !== 'string') throw invalid(`rows[${i}].data must be JSON text or null`);
    if (data !== null && !data.isWellFormed()) throw invalid(`rows[${i}].data must be well-formed Unicode`);
    return { rank, memberId: checkMemberId(`rows[${i}].memberId`, row['memberId']), score, data };
  });
}

/** The period a `closePeriod` call records. */
export function checkPeriod(period: unknown): Omit<ArchivedPeriod, 'archivedAt'> {
  const p = checkObject('period', period);
  return {
    board: checkBoard(p['board']),
    periodStart: checkTime('periodStart', p['periodStart']),
    periodEnd: checkTime('periodEnd', p['periodEnd']),
    members: checkCount('members', p['members']),
  };
}
