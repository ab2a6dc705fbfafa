import type { BoardDefinition, BoardDefinitionInput, StoredDefinition } from './definition.js';

/** A member's place on a board. */
export interface Entry {
  readonly memberId: string;
  readonly score: number;
  /** 1-based: 1 is the top. Equal scores rank by who reached the score first. */
  readonly rank: number;
  /** The member's data (any JSON value given with its scores), or null. */
  readonly data: unknown;
}

/** What a submitted score did. */
export interface SubmitResult {
  /** The member's score now (after the board's policy). */
  readonly score: number;
  /** Its rank now. */
  readonly rank: number;
  /** Whether its score changed (false: a `best` board kept a better score, or the same score came again). */
  readonly changed: boolean;
}

/** A board, as `list` and `create` describe it. */
export interface BoardInfo {
  readonly name: string;
  readonly definition: BoardDefinition;
  readonly createdAt: number;
  /** Members in the current period. */
  readonly members: number;
  /** When the current period began (0: the board never resets). */
  readonly periodStart: number;
  /** When it ends (null: never). */
  readonly periodEnd: number | null;
}

/** A page of the current standings. */
export interface Page {
  readonly entries: Entry[];
  /** Members in the current period. */
  readonly total: number;
}

/** A closed period whose standings were archived. */
export interface ClosedPeriod {
  readonly periodStart: number;
  readonly periodEnd: number;
  /** Members archived (`archiveTop` may have cut the standings). */
  readonly members: number;
  readonly archivedAt: number;
}

/**
 * Leaderboards, for game code: the same methods on the engine's main thread, on the admin side
 * (a `Leaderboards` instance of its own) and in scenes and services (`scene.leaderboards`, which
 * relays them to the engine's main thread). Every method rejects with a `CodedError`:
 * `OPT_ERR_INVALID` for a malformed argument, `LB_ERR_UNKNOWN_BOARD` for a board that does not
 * exist, `LB_ERR_BACKEND` when Redis does not answer.
 */
export interface LeaderboardApi {
  /** Create a board; creating it again with the same definition is a no-op. @throws LB_ERR_BOARD_EXISTS with another definition */
  create(name: string, definition: BoardDefinitionInput): Promise<BoardInfo>;
  /** Every board, by name. */
  list(): Promise<BoardInfo[]>;
  /** Delete a board and its current standings (archived periods stay in the store). @returns false when there was no such board */
  delete(name: string): Promise<boolean>;
  /**
   * Submit a score for a member, applied by the board's policy. `data` (any JSON value up to 2 KiB)
   * is kept with the member; absent, the member's data stays as it was; null removes it.
   */
  submit(board: string, memberId: string, score: number, options?: { readonly data?: unknown }): Promise<SubmitResult>;
  /** A member's score and rank, or null when it has none this period. */
  get(board: string, memberId: string): Promise<Entry | null>;
  /** The member and those ranked around it (`before` above, `after` below; 5 each by default, at most 1,000); empty when it has no score. */
  around(board: string, memberId: string, options?: { readonly before?: number; readonly after?: number }): Promise<Entry[]>;
  /** A page of the standings from `offset` (0-based; 0 by default), `limit` entries (20 by default, at most 1,000). */
  page(board: string, options?: { readonly offset?: number; readonly limit?: number }): Promise<Page>;
  /** Members this period. */
  count(board: string): Promise<number>;
  /** Remove a member from the current standings. @returns false when it had no score */
  remove(board: string, memberId: string): Promise<boolean>;
  /** The archived periods of a board, newest first (`limit` 20 by default, at most 1,000). Also for a deleted board. */
  periods(board: string, options?: { readonly limit?: number }): Promise<ClosedPeriod[]>;
  /** A page of an archived period's closing standings. */
  archived(board: string, periodStart: number, options?: { readonly offset?: number; readonly limit?: number }): Promise<Entry[]>;
  /** A member's closing place in an archived period, or null. */
  archivedMember(board: string, periodStart: number, memberId: string): Promise<Entry | null>;
}

/** A raw entry as a backend returns it (data still JSON text). */
export interface RawEntry {
  readonly memberId: string;
  readonly score: number;
  /** 0-based. */
  readonly index: number;
  readonly data: string | null;
}

/** The board's version no longer matches: it was deleted (and maybe created again) since the definition was read. */
export const STALE = Symbol('stale');
export type Stale = typeof STALE;

/** Where an operation acts: a board, as of its definition's `version`, in one period. */
export interface Target {
  readonly name: string;
  readonly version: string;
  readonly order: 'desc' | 'asc';
  readonly period: number;
}

/**
 * What a leaderboard backend (Redis, memory) does: plain storage operations, each atomic, each
 * checking that the board still has `target.version` (else {@link STALE}). Inputs are already
 * checked; policies and periods are decided by the caller ({@link Leaderboards}).
 */
export interface LeaderboardBackend {
  /** Connect and check the backend answers. @throws LB_ERR_BACKEND */
  start(): Promise<void>;
  /** The backend's clock (ms since the epoch): one clock for every archiver of the cluster (Redis TIME). */
  now(): Promise<number>;
  /** Create the board when absent; either way, the definition it has now. */
  define(name: string, def: StoredDefinition): Promise<StoredDefinition>;
  definition(name: string): Promise<StoredDefinition | null>;
  names(): Promise<string[]>;
  /** Remove the definition first (so operations in flight see it gone), then every period's data. */
  drop(name: string): Promise<boolean>;
  submit(t: Target, memberId: string, score: number, policy: BoardDefinition['policy'], data: string | null | undefined): Promise<SubmitResult | Stale>;
  entry(t: Target, memberId: string): Promise<RawEntry | null | Stale>;
  around(t: Target, memberId: string, before: number, after: number): Promise<RawEntry[] | Stale>;
  range(t: Target, offset: number, limit: number): Promise<{ readonly entries: RawEntry[]; readonly total: number } | Stale>;
  count(t: Target): Promise<number | Stale>;
  remove(t: Target, memberId: string): Promise<boolean | Stale>;
  /** Members of several boards' periods at once (for `list`). */
  counts(targets: readonly Target[]): Promise<number[]>;

  /**
   * The archiver's: each acts on the standings of the board as created with `version` (a board
   * deleted and created again has other standings, never mixed with the old ones).
   */
  /** Periods of the board that hold standings, oldest first. */
  periodsWithData(name: string, version: string): Promise<number[]>;
  /** Standings of a (closed) period. */
  periodRange(name: string, version: string, order: 'desc' | 'asc', period: number, offset: number, limit: number): Promise<RawEntry[]>;
  /** Take the right to archive a period for `ttlMs` (one archiver at a time in the cluster). */
  lockPeriod(name: string, version: string, period: number, owner: string, ttlMs: number): Promise<boolean>;
  /** Forget an archived period's standings and its lock. */
  dropPeriod(name: string, version: string, period: number): Promise<void>;
  close(): Promise<void>;
}
