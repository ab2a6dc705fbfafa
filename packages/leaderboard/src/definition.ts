/**
 * What a board is (its definition) and what names, member ids, scores and data it accepts; the
 * periods of a board that resets on a schedule. Checked here, once, for every backend.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { CodedError, ErrorCodes } from '@gos/schema';

/** How a submitted score changes a member's score. */
export type ScorePolicy = 'best' | 'latest' | 'increment';

/** A board's definition, as given to `create` (defaults filled in). */
export interface BoardDefinition {
  /**
   * `best`: keep the better of the member's score and the new one (higher for `desc`, lower for
   * `asc`); `latest`: the new score replaces it; `increment`: the new score is added to it.
   */
  readonly policy: ScorePolicy;
  /** `desc`: the highest score ranks first (points); `asc`: the lowest (a race time). @default 'desc' */
  readonly order: 'desc' | 'asc';
  /**
   * When the board starts a new period, as a cron pattern (5 fields, or 6 with seconds first):
   * `0 0 * * *` daily at midnight, `0 0 * * 1` weekly on Monday, `0 0 1 * *` monthly. The closing
   * standings of each period are archived to the SQL store. null: the board never resets.
   * @default null
   */
  readonly reset: string | null;
  /** The IANA time zone `reset` is read in. @default 'UTC' */
  readonly timezone: string;
  /** How many of a closing period's members are archived, from the top; null: all of them, 0: none. @default null */
  readonly archiveTop: number | null;
}

/** A definition as the backend keeps it: with the version `create` gave it. */
export interface StoredDefinition extends BoardDefinition {
  /** Changes when the board is deleted and created again: operations carry it, so none reaches the wrong board. */
  readonly version: string;
  /** When the board was created (ms since the epoch). */
  readonly createdAt: number;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Longest member id, in UTF-16 code units (the store's column holds 128 characters). */
export const MAX_MEMBER_ID = 128;
/** Longest member data, as JSON text in bytes. */
export const MAX_DATA_BYTES = 2048;
/** The shortest period a `reset` may make. */
const MIN_PERIOD_MS = 60_000;
/** Most entries one page or around-me answer holds. */
export const MAX_PAGE = 1000;

export const definitionInput = z.strictObject({
  policy: z.enum(['best', 'latest', 'increment']),
  order: z.enum(['desc', 'asc']).default('desc'),
  reset: z.string().min(1).max(200).nullable().default(null),
  timezone: z.string().min(1).max(64).default('UTC'),
  archiveTop: z.int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().default(null),
});

/** What `create` takes: `policy`, and the rest of {@link BoardDefinition} optionally. */
export type BoardDefinitionInput = z.input<typeof definitionInput>;

function invalid(message: string): never {
  throw new CodedError(ErrorCodes.OPT_ERR_INVALID, message);
}

export function checkBoardName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) invalid(`a board name is 1–64 characters of A–Z a–z 0–9 _ . -, got ${describe(name)}`);
  return name;
}

export function checkMemberId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_MEMBER_ID || !id.isWellFormed()) {
    invalid(`a member id is 1–${MAX_MEMBER_ID} characters of well-formed Unicode, got ${describe(id)}`);
  }
  return id;
}

export function checkScore(score: unknown): number {
  if (typeof score !== 'number' || !Number.isFinite(score) || Math.abs(score) > Number.MAX_SAFE_INTEGER) {
    invalid(`a score is a finite number within ±${Number.MAX_SAFE_INTEGER}, got ${describe(score)}`);
  }
  return score;
}

/** Member data as JSON text (undefined: leave the member's data as it is; null: remove it). */
export function encodeData(data: unknown): string | null | undefined {
  if (data === undefined || data === null) return data;
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (err) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'member data cannot be written as JSON', { cause: err });
  }
  if (text === undefined) invalid('member data must be a JSON value');
  if (Buffer.byteLength(text) > MAX_DATA_BYTES) invalid(`member data is at most ${MAX_DATA_BYTES} bytes of JSON, got ${Buffer.byteLength(text)}`);
  return text;
}

/** A count argument (`limit`, `before`, `after`): an integer in [min, max], or `fallback` when absent. */
export function checkCount(what: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) invalid(`${what} is an integer from ${min} to ${max}, got ${describe(value)}`);
  return value;
}

/** Check and complete a definition; a `reset` pattern or time zone that croner cannot read is refused. */
export function checkDefinition(input: unknown): BoardDefinition {
  const parsed = definitionInput.safeParse(input);
  if (!parsed.success) invalid(`bad board definition: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
  const def = parsed.data;
  if (def.reset !== null) {
    let runs: Date[];
    try {
      runs = new Cron(def.reset, { paused: true, timezone: def.timezone }).nextRuns(2);
    } catch (err) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `bad board reset ${JSON.stringify(def.reset)} (time zone ${def.timezone}): ${(err as Error).message}`, { cause: err });
    }
    const [a, b] = runs;
    // A pattern that never fires again (30 February, a single date) would leave the board in one period forever.
    if (a === undefined || b === undefined) invalid(`board reset ${JSON.stringify(def.reset)} does not fire again and again: a reset is a recurring cron pattern`);
    if (b.getTime() - a.getTime() < MIN_PERIOD_MS) invalid(`board reset ${JSON.stringify(def.reset)} starts a period every ${b.getTime() - a.getTime()} ms: a period lasts at least a minute`);
  }
  return Object.freeze(def);
}

const storedShape = definitionInput.extend({ version: z.string().min(1).max(64), createdAt: z.int().min(0) });

/** A definition read back from a backend (JSON text): checked, since another process wrote it. */
export function decodeStoredDefinition(json: string): StoredDefinition {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new CodedError(ErrorCodes.LB_ERR_BACKEND, 'a stored board definition is not JSON', { cause: err });
  }
  const parsed = storedShape.safeParse(value);
  if (!parsed.success) throw new CodedError(ErrorCodes.LB_ERR_BACKEND, `a stored board definition is malformed: ${z.prettifyError(parsed.error)}`);
  return Object.freeze(parsed.data);
}

/** Whether two definitions describe the same board (the version aside). */
export function sameDefinition(a: BoardDefinition, b: BoardDefinition): boolean {
  return a.policy === b.policy && a.order === b.order && a.reset === b.reset && a.timezone === b.timezone && a.archiveTop === b.archiveTop;
}

/** One period of a board: from `start` (its id; 0 for a board that never resets) until `end` (Infinity: never). */
export interface Period {
  readonly start: number;
  readonly end: number;
}

const FOREVER: Period = Object.freeze({ start: 0, end: Infinity });

/** The periods of one board's reset schedule, the current one cached until it ends. */
export class PeriodClock {
  readonly #cron: Cron | null;
  #current: Period | null = null;

  constructor(def: BoardDefinition) {
    this.#cron = def.reset === null ? null : new Cron(def.reset, { paused: true, timezone: def.timezone });
  }

  /** The period `now` (ms since the epoch) falls in. */
  at(now: number): Period {
    const cron = this.#cron;
    if (cron === null) return FOREVER;
    const cached = this.#current;
    if (cached !== null && now >= cached.start && now < cached.end) return cached;
    // The last fire at or before now (previousRuns is strictly before its reference), and the next one after it.
    const start = cron.previousRuns(1, new Date(now + 1))[0]?.getTime() ?? 0;
    const end = cron.nextRun(new Date(Math.max(start, now)))?.getTime() ?? Infinity;
    const period = Object.freeze({ start, end });
    this.#current = period;
    return period;
  }

  /** When the period that began at `start` ended (or ends). */
  endOf(start: number): number {
    return this.#cron?.nextRun(new Date(start))?.getTime() ?? Infinity;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}
