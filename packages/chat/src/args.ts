/**
 * The argument checks both backends share (types.ts gives the limits): every method checks its
 * arguments here first and rejects with `OPT_ERR_INVALID`, so the backends agree on what is
 * malformed and nothing malformed reaches Redis. Lengths count code points; strings must be
 * well-formed UTF-16 (a lone surrogate would not survive the trip through Redis's UTF-8).
 */
import { CodedError, ErrorCodes } from '@gos/schema';
import type { ChannelName, ChatLine, ChatRetention, NewChatLine } from './types.js';

/** A channel's name: at most this many code points, none a control character or whitespace. */
export const MAX_CHANNEL = 300;
/** A player id: at most this many code points. */
export const MAX_PLAYER_ID = 255;
/** A sender's name as shown: at most this many code points (it may be empty). */
export const MAX_NAME = 64;
/** A line's text: at most this many code points (at least one). */
export const MAX_TEXT = 1000;
/** Lines a history call returns at most. */
export const MAX_HISTORY = 100;
/** `ChatRetention.maxLines` at most. */
export const MAX_RETAINED_LINES = 100_000;
/** `ChatRetention.maxAgeMs` at least. */
export const MIN_RETAINED_AGE_MS = 1000;
/** Lines held for one player at most (`hold`'s `max`). */
export const MAX_HELD = 1000;
/** A held line's `ttlMs` at least. */
export const MIN_HELD_TTL_MS = 1000;
/** Players one player blocks at most. */
export const MAX_BLOCKED = 1000;
/** A published frame's size at most (bytes): a chat push is far smaller. */
export const MAX_FRAME_BYTES = 1 << 20;

/** A line id: `<ms>-<seq>`, both decimal safe integers (a Redis stream id). */
const LINE_ID = /^(\d{1,16})-(\d{1,16})$/;
/** What a channel's name may not hold. */
const CHANNEL_FORBIDDEN = /[\p{Cc}\s]/u;

function invalid(message: string): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, `chat: ${message}`);
}

function show(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point (well-formedness is checked apart).
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
    n++;
  }
  return n;
}

function checkString(value: unknown, what: string, min: number, max: number): string {
  if (typeof value !== 'string') throw invalid(`${what} must be a string, got ${show(value)}`);
  if (!value.isWellFormed()) throw invalid(`${what} holds a lone surrogate`);
  const n = codePoints(value);
  if (n < min || n > max) throw invalid(`${what} must be ${min}–${max} characters, got ${n}`);
  return value;
}

function checkInteger(value: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${what} must be an integer ${min}–${max}, got ${show(value)}`);
  }
  return value;
}

function checkObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${what} must be an object, got ${show(value)}`);
  return value as Record<string, unknown>;
}

/** A channel's name (see {@link MAX_CHANNEL}). @throws OPT_ERR_INVALID */
export function checkChannel(value: unknown, what = 'channel'): ChannelName {
  const channel = checkString(value, what, 1, MAX_CHANNEL);
  if (CHANNEL_FORBIDDEN.test(channel)) throw invalid(`${what} may not hold control characters or whitespace: ${show(channel)}`);
  return channel;
}

/** A player id, 1–255 characters. @throws OPT_ERR_INVALID */
export function checkPlayerId(value: unknown, what = 'playerId'): string {
  return checkString(value, what, 1, MAX_PLAYER_ID);
}

/** A line id as the backends give them (`<ms>-<seq>`). @throws OPT_ERR_INVALID */
export function checkLineId(value: unknown, what = 'id'): string {
  if (typeof value !== 'string' || parseLineId(value) === null) throw invalid(`${what} must be a line id "<ms>-<seq>", got ${show(value)}`);
  return value;
}

/** `<ms>-<seq>` as numbers, or null when `id` is not one (or its parts are not safe integers). */
export function parseLineId(id: string): { readonly ms: number; readonly seq: number } | null {
  const m = LINE_ID.exec(id);
  if (m === null) return null;
  const ms = Number(m[1]);
  const seq = Number(m[2]);
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? { ms, seq } : null;
}

/** Whether line id `a` comes before `b` (both well-formed). */
export function idBefore(a: { readonly ms: number; readonly seq: number }, b: { readonly ms: number; readonly seq: number }): boolean {
  return a.ms < b.ms || (a.ms === b.ms && a.seq < b.seq);
}

/** A line to append; the result holds only its own fields. @throws OPT_ERR_INVALID */
export function checkNewLine(value: unknown): NewChatLine {
  const o = checkObject(value, 'line');
  return {
    channel: checkChannel(o['channel'], 'line.channel'),
    from: checkPlayerId(o['from'], 'line.from'),
    name: checkString(o['name'], 'line.name', 0, MAX_NAME),
    text: checkString(o['text'], 'line.text', 1, MAX_TEXT),
  };
}

/** A whole line (to hold); the result holds only its own fields. @throws OPT_ERR_INVALID */
export function checkLine(value: unknown): ChatLine {
  const o = checkObject(value, 'line');
  return { id: checkLineId(o['id'], 'line.id'), ...checkNewLine(o), at: checkInteger(o['at'], 'line.at', 0) };
}

/** A line decoded from storage, or null when it is not one (never throws). */
export function asLine(value: unknown): ChatLine | null {
  try {
    return checkLine(value);
  } catch {
    return null;
  }
}

/** @throws OPT_ERR_INVALID */
export function checkRetention(value: unknown): ChatRetention {
  const o = checkObject(value, 'retention');
  return {
    maxLines: checkInteger(o['maxLines'], 'retention.maxLines', 1, MAX_RETAINED_LINES),
    maxAgeMs: checkInteger(o['maxAgeMs'], 'retention.maxAgeMs', MIN_RETAINED_AGE_MS),
  };
}

/** `history`'s limit, 1–100. @throws OPT_ERR_INVALID */
export function checkHistoryLimit(value: unknown): number {
  return checkInteger(value, 'limit', 1, MAX_HISTORY);
}

/** `hold`'s max (1–1,000) and ttlMs (≥ 1000). @throws OPT_ERR_INVALID */
export function checkHoldLimits(max: unknown, ttlMs: unknown): { max: number; ttlMs: number } {
  return { max: checkInteger(max, 'max', 1, MAX_HELD), ttlMs: checkInteger(ttlMs, 'ttlMs', MIN_HELD_TTL_MS) };
}

/** A time, ms since the epoch (0 or more). @throws OPT_ERR_INVALID */
export function checkTime(value: unknown, what: string): number {
  return checkInteger(value, what, 0);
}

/** The two players of a block: distinct (a player never blocks itself). @throws OPT_ERR_INVALID */
export function checkPair(playerId: unknown, other: unknown): [string, string] {
  const a = checkPlayerId(playerId);
  const b = checkPlayerId(other, 'other');
  if (a === b) throw invalid(`a player cannot block itself (${show(a)})`);
  return [a, b];
}

/** A frame to publish: bytes, at most {@link MAX_FRAME_BYTES}. @throws OPT_ERR_INVALID */
export function checkFrame(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(`frame must be a Uint8Array, got ${show(value)}`);
  if (value.byteLength > MAX_FRAME_BYTES) throw invalid(`frame must be at most ${MAX_FRAME_BYTES} bytes, got ${value.byteLength}`);
  return value;
}

/** A subscriber's callback. @throws OPT_ERR_INVALID */
export function checkHandler<T>(value: T): T {
  if (typeof value !== 'function') throw invalid(`onFrame must be a function, got ${show(value)}`);
  return value;
}

/** The error when the player already blocks {@link MAX_BLOCKED} others. */
export function tooManyBlocked(playerId: string): CodedError {
  return invalid(`${show(playerId)} already blocks ${MAX_BLOCKED} players, the most there may be`);
}
