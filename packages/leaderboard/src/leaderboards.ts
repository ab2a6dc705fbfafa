/**
 * The leaderboard API over a backend (Redis or memory): arguments checked, the board's policy
 * and current period applied, definitions cached (every operation still checks the board's
 * version inside the backend, so a cached definition is never applied to a board deleted
 * meanwhile), and closed periods archived to the SQL store by {@link PeriodArchiver}.
 */
import { randomUUID } from 'node:crypto';
import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import type { LeaderboardArchive } from '@gos/store';
import {
  MAX_PAGE,
  PeriodClock,
  checkBoardName,
  checkCount,
  checkDefinition,
  checkMemberId,
  checkScore,
  encodeData,
  sameDefinition,
  type BoardDefinitionInput,
  type StoredDefinition,
} from './definition.js';
import { PeriodArchiver } from './archiver.js';
import { STALE, type BoardInfo, type ClosedPeriod, type Entry, type LeaderboardApi, type LeaderboardBackend, type Page, type RawEntry, type Stale, type SubmitResult, type Target } from './types.js';

export interface LeaderboardsOptions {
  readonly backend: LeaderboardBackend;
  /** Where closed periods are archived and read back (`store.leaderboardArchive`); without it, `periods` and `archived` refuse and nothing is archived. */
  readonly archive?: LeaderboardArchive | null;
  /** Run the archiver here (needs `archive`): every process that runs it takes turns through a lock per period. @default true when `archive` is given */
  readonly archiver?: boolean;
  /** How often the archiver looks for closed periods. @default 30000 */
  readonly archiveIntervalMs?: number;
  /** How long after a period ends its standings wait before they are archived (late writes from clocks a little behind). @default 10000 */
  readonly archiveGraceMs?: number;
  /** Who archives, in the lock (an engine's id). @default a random id */
  readonly owner?: string;
  /** How long a board's definition is used before it is read again. @default 5000 */
  readonly definitionCacheMs?: number;
  /** The clock periods are read from (tests). @default Date.now */
  readonly now?: () => number;
  /** @default silentLogger */
  readonly logger?: Logger;
}

interface Known {
  readonly def: StoredDefinition;
  readonly clock: PeriodClock;
  readonly readAt: number;
}

function unknownBoard(name: string): CodedError {
  return new CodedError(ErrorCodes.LB_ERR_UNKNOWN_BOARD, `there is no leaderboard ${name}`);
}

export class Leaderboards implements LeaderboardApi {
  readonly #backend: LeaderboardBackend;
  readonly #archive: LeaderboardArchive | null;
  readonly #archiver: PeriodArchiver | null;
  readonly #now: () => number;
  readonly #cacheMs: number;
  readonly #known = new Map<string, Known>();
  #closing: Promise<void> | null = null;

  constructor(o: LeaderboardsOptions) {
    this.#backend = o.backend;
    this.#archive = o.archive ?? null;
    this.#now = o.now ?? Date.now;
    this.#cacheMs = checkCount('definitionCacheMs', o.definitionCacheMs, 5000, 0, 3_600_000);
    const archiving = o.archiver ?? this.#archive !== null;
    if (archiving && this.#archive === null) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'leaderboards: the archiver needs an archive (store.leaderboardArchive)');
    this.#archiver =
      archiving && this.#archive !== null
        ? new PeriodArchiver({
            backend: this.#backend,
            archive: this.#archive,
            definition: (name) => this.#definition(name, true),
            now: o.now === undefined ? () => this.#backend.now() : async () => this.#now(),
            owner: o.owner ?? `lb-${randomUUID()}`,
            intervalMs: checkCount('archiveIntervalMs', o.archiveIntervalMs, 30_000, 10, 86_400_000),
            graceMs: checkCount('archiveGraceMs', o.archiveGraceMs, 10_000, 0, 86_400_000),
            logger: o.logger ?? silentLogger,
          })
        : null;
  }

  /** Reach the backend, then start the archiver. @throws LB_ERR_BACKEND */
  async start(): Promise<void> {
    await this.#backend.start();
    this.#archiver?.start();
  }

  /** Stop the archiver (waiting for a pass under way), then close the backend. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#archiver?.close();
      await this.#backend.close();
    })();
    return this.#closing;
  }

  /** Archive every closed period now (normally the archiver's timer does): how many were archived. */
  async archiveNow(): Promise<number> {
    if (this.#archiver === null) throw new CodedError(ErrorCodes.LB_ERR_NOT_CONFIGURED, 'these leaderboards run no archiver');
    return this.#archiver.pass();
  }

  async create(name: string, definition: BoardDefinitionInput): Promise<BoardInfo> {
    checkBoardName(name);
    const def = checkDefinition(definition);
    const stored = await this.#backend.define(name, Object.freeze({ ...def, version: randomUUID(), createdAt: this.#now() }));
    if (!sameDefinition(stored, def)) throw new CodedError(ErrorCodes.LB_ERR_BOARD_EXISTS, `leaderboard ${name} exists with another definition (${describeDefinition(stored)})`);
    const known = this.#remember(name, stored);
    return (await this.#infos([[name, known]]))[0]!;
  }

  async list(): Promise<BoardInfo[]> {
    const names = await this.#backend.names();
    const found: Array<[string, Known]> = [];
    for (const name of names) {
      const known = await this.#definition(name, true);
      if (known !== null) found.push([name, known]);
    }
    return this.#infos(found);
  }

  async delete(name: string): Promise<boolean> {
    checkBoardName(name);
    this.#known.delete(name);
    return this.#backend.drop(name);
  }

  async submit(board: string, memberId: string, score: number, options?: { readonly data?: unknown }): Promise<SubmitResult> {
    checkMemberId(memberId);
    checkScore(score);
    const data = encodeData(options?.data);
    return this.#on(board, (t, def) => this.#backend.submit(t, memberId, score, def.policy, data));
  }

  async get(board: string, memberId: string): Promise<Entry | null> {
    checkMemberId(memberId);
    const raw = await this.#on(board, (t) => this.#backend.entry(t, memberId));
    return raw === null ? null : toEntry(raw);
  }

  async around(board: string, memberId: string, options?: { readonly before?: number; readonly after?: number }): Promise<Entry[]> {
    checkMemberId(memberId);
    const before = checkCount('before', options?.before, 5, 0, MAX_PAGE);
    const after = checkCount('after', options?.after, 5, 0, MAX_PAGE);
    return (await this.#on(board, (t) => this.#backend.around(t, memberId, before, after))).map(toEntry);
  }

  async page(board: string, options?: { readonly offset?: number; readonly limit?: number }): Promise<Page> {
    const offset = checkCount('offset', options?.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = checkCount('limit', options?.limit, 20, 1, MAX_PAGE);
    const r = await this.#on(board, (t) => this.#backend.range(t, offset, limit));
    return { entries: r.entries.map(toEntry), total: r.total };
  }

  async count(board: string): Promise<number> {
    return this.#on(board, (t) => this.#backend.count(t));
  }

  async remove(board: string, memberId: string): Promise<boolean> {
    checkMemberId(memberId);
    return this.#on(board, (t) => this.#backend.remove(t, memberId));
  }

  async periods(board: string, options?: { readonly limit?: number }): Promise<ClosedPeriod[]> {
    checkBoardName(board);
    const limit = checkCount('limit', options?.limit, 20, 1, MAX_PAGE);
    const rows = await this.#needArchive().periods(board, limit);
    return rows.map((p) => ({ periodStart: p.periodStart, periodEnd: p.periodEnd, members: p.members, archivedAt: p.archivedAt }));
  }

  async archived(board: string, periodStart: number, options?: { readonly offset?: number; readonly limit?: number }): Promise<Entry[]> {
    checkBoardName(board);
    const offset = checkCount('offset', options?.offset, 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = checkCount('limit', options?.limit, 20, 1, MAX_PAGE);
    const rows = await this.#needArchive().standings(board, checkCount('periodStart', periodStart, 0, 0, Number.MAX_SAFE_INTEGER), offset, limit);
    return rows.map((r) => ({ memberId: r.memberId, score: r.score, rank: r.rank, data: parseData(r.data) }));
  }

  async archivedMember(board: string, periodStart: number, memberId: string): Promise<Entry | null> {
    checkBoardName(board);
    checkMemberId(memberId);
    const r = await this.#needArchive().standing(board, checkCount('periodStart', periodStart, 0, 0, Number.MAX_SAFE_INTEGER), memberId);
    return r === null ? null : { memberId: r.memberId, score: r.score, rank: r.rank, data: parseData(r.data) };
  }

  #needArchive(): LeaderboardArchive {
    if (this.#archive === null) throw new CodedError(ErrorCodes.LB_ERR_NOT_CONFIGURED, 'these leaderboards have no archive (a store) to read closed periods from');
    return this.#archive;
  }

  /** Run `op` on the board's current period; once more with the definition read again when the board changed under it. */
  async #on<T>(board: string, op: (t: Target, def: StoredDefinition) => Promise<T | Stale>): Promise<T> {
    checkBoardName(board);
    for (let fresh = false; ; fresh = true) {
      const known = await this.#definition(board, fresh);
      if (known === null) throw unknownBoard(board);
      const r = await op({ name: board, version: known.def.version, order: known.def.order, period: known.clock.at(this.#now()).start }, known.def);
      if (r !== STALE) return r;
      this.#known.delete(board);
      if (fresh) throw unknownBoard(board);
    }
  }

  async #definition(name: string, fresh: boolean): Promise<Known | null> {
    const cached = this.#known.get(name);
    if (!fresh && cached !== undefined && performance.now() - cached.readAt < this.#cacheMs) return cached;
    const def = await this.#backend.definition(name);
    if (def === null) {
      this.#known.delete(name);
      return null;
    }
    return cached !== undefined && cached.def.version === def.version ? this.#remember(name, cached.def, cached.clock) : this.#remember(name, def);
  }

  #remember(name: string, def: StoredDefinition, clock = new PeriodClock(def)): Known {
    const known = { def, clock, readAt: performance.now() };
    this.#known.set(name, known);
    return known;
  }

  async #infos(boards: ReadonlyArray<readonly [string, Known]>): Promise<BoardInfo[]> {
    const now = this.#now();
    const targets = boards.map(([name, k]) => ({ name, version: k.def.version, order: k.def.order, period: k.clock.at(now).start }));
    const counts = await this.#backend.counts(targets);
    return boards.map(([name, k], i) => {
      const period = k.clock.at(now);
      const { version: _v, createdAt, ...definition } = k.def;
      return { name, definition, createdAt, members: counts[i] ?? 0, periodStart: period.start, periodEnd: Number.isFinite(period.end) ? period.end : null };
    });
  }
}

function toEntry(raw: RawEntry): Entry {
  return { memberId: raw.memberId, score: raw.score, rank: raw.index + 1, data: parseData(raw.data) };
}

function parseData(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CodedError(ErrorCodes.LB_ERR_BACKEND, 'stored member data is not JSON', { cause: err });
  }
}

function describeDefinition(d: StoredDefinition): string {
  return `policy ${d.policy}, order ${d.order}, reset ${d.reset ?? 'never'}${d.reset === null ? '' : ` ${d.timezone}`}, archiveTop ${d.archiveTop ?? 'all'}`;
}
