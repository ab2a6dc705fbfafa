/**
 * Leaderboards held in this process: for the embedded `npm start`, one engine and tests. Each
 * period's standings are one sorted array (binary search to rank, a splice to move), which is
 * fine to a few hundred thousand members a board; production boards live in Redis.
 */
import type { BoardDefinition, StoredDefinition } from './definition.js';
import { STALE, type LeaderboardBackend, type RawEntry, type Stale, type SubmitResult, type Target } from './types.js';

interface Node {
  readonly memberId: string;
  readonly score: number;
  /** When the member reached this score: equal scores rank by it. */
  readonly seq: number;
}

class Standings {
  readonly list: Node[] = [];
  readonly byId = new Map<string, Node>();
  readonly data = new Map<string, string>();
  constructor(readonly desc: boolean) {}

  /** Where `node` is, or would go. */
  indexOf(node: Node): number {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#before(this.list[mid]!, node)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #before(a: Node, b: Node): boolean {
    if (a.score !== b.score) return this.desc ? a.score > b.score : a.score < b.score;
    return a.seq < b.seq;
  }

  put(node: Node): void {
    const old = this.byId.get(node.memberId);
    if (old !== undefined) this.list.splice(this.indexOf(old), 1);
    this.list.splice(this.indexOf(node), 0, node);
    this.byId.set(node.memberId, node);
  }

  delete(memberId: string): boolean {
    const old = this.byId.get(memberId);
    if (old === undefined) return false;
    this.list.splice(this.indexOf(old), 1);
    this.byId.delete(memberId);
    this.data.delete(memberId);
    return true;
  }

  raw(index: number): RawEntry {
    const node = this.list[index]!;
    return { memberId: node.memberId, score: node.score, index, data: this.data.get(node.memberId) ?? null };
  }

  slice(start: number, stop: number): RawEntry[] {
    const out: RawEntry[] = [];
    for (let i = Math.max(0, start); i < Math.min(stop, this.list.length); i++) out.push(this.raw(i));
    return out;
  }
}

interface Board {
  readonly def: StoredDefinition;
  seq: number;
  readonly periods: Map<number, Standings>;
  readonly locks: Map<number, { readonly owner: string; readonly until: number }>;
}

export class MemoryLeaderboardBackend implements LeaderboardBackend {
  readonly #boards = new Map<string, Board>();

  async start(): Promise<void> {
    // Nothing to reach.
  }

  async now(): Promise<number> {
    return Date.now();
  }

  async define(name: string, def: StoredDefinition): Promise<StoredDefinition> {
    const have = this.#boards.get(name);
    if (have !== undefined) return have.def;
    this.#boards.set(name, { def, seq: 0, periods: new Map(), locks: new Map() });
    return def;
  }

  async definition(name: string): Promise<StoredDefinition | null> {
    return this.#boards.get(name)?.def ?? null;
  }

  async names(): Promise<string[]> {
    return [...this.#boards.keys()];
  }

  async drop(name: string): Promise<boolean> {
    return this.#boards.delete(name);
  }

  #board(t: Target): Board | null {
    const board = this.#boards.get(t.name);
    return board !== undefined && board.def.version === t.version ? board : null;
  }

  #standings(board: Board, period: number, create: true): Standings;
  #standings(board: Board, period: number, create: false): Standings | undefined;
  #standings(board: Board, period: number, create: boolean): Standings | undefined {
    let s = board.periods.get(period);
    if (s === undefined && create) {
      s = new Standings(board.def.order === 'desc');
      board.periods.set(period, s);
    }
    return s;
  }

  async submit(t: Target, memberId: string, score: number, policy: BoardDefinition['policy'], data: string | null | undefined): Promise<SubmitResult | Stale> {
    const board = this.#board(t);
    if (board === null) return STALE;
    const s = this.#standings(board, t.period, true);
    const old = s.byId.get(memberId);
    let next = score;
    if (policy === 'increment') next = (old?.score ?? 0) + score;
    else if (policy === 'best' && old !== undefined && !(s.desc ? score > old.score : score < old.score)) next = old.score;
    const changed = old === undefined || next !== old.score;
    let node = old;
    if (changed || node === undefined) {
      node = { memberId, score: next, seq: ++board.seq };
      s.put(node);
    }
    if (data === null) s.data.delete(memberId);
    else if (data !== undefined) s.data.set(memberId, data);
    return { score: next, rank: s.indexOf(node) + 1, changed };
  }

  async entry(t: Target, memberId: string): Promise<RawEntry | null | Stale> {
    const board = this.#board(t);
    if (board === null) return STALE;
    const s = this.#standings(board, t.period, false);
    const node = s?.byId.get(memberId);
    return s === undefined || node === undefined ? null : s.raw(s.indexOf(node));
  }

  async around(t: Target, memberId: string, before: number, after: number): Promise<RawEntry[] | Stale> {
    const board = this.#board(t);
    if (board === null) return STALE;
    const s = this.#standings(board, t.period, false);
    const node = s?.byId.get(memberId);
    if (s === undefined || node === undefined) return [];
    const index = s.indexOf(node);
    return s.slice(index - before, index + after + 1);
  }

  async range(t: Target, offset: number, limit: number): Promise<{ entries: RawEntry[]; total: number } | Stale> {
    const board = this.#board(t);
    if (board === null) return STALE;
    const s = this.#standings(board, t.period, false);
    return { entries: s?.slice(offset, offset + limit) ?? [], total: s?.list.length ?? 0 };
  }

  async count(t: Target): Promise<number | Stale> {
    const board = this.#board(t);
    if (board === null) return STALE;
    return this.#standings(board, t.period, false)?.list.length ?? 0;
  }

  async remove(t: Target, memberId: string): Promise<boolean | Stale> {
    const board = this.#board(t);
    if (board === null) return STALE;
    return this.#standings(board, t.period, false)?.delete(memberId) ?? false;
  }

  async counts(targets: readonly Target[]): Promise<number[]> {
    return targets.map((t) => {
      const board = this.#board(t);
      return board === null ? 0 : (this.#standings(board, t.period, false)?.list.length ?? 0);
    });
  }

  #edition(name: string, version: string): Board | undefined {
    const board = this.#boards.get(name);
    return board?.def.version === version ? board : undefined;
  }

  async periodsWithData(name: string, version: string): Promise<number[]> {
    const board = this.#edition(name, version);
    return board === undefined ? [] : [...board.periods.keys()].sort((a, b) => a - b);
  }

  async periodRange(name: string, version: string, _order: 'desc' | 'asc', period: number, offset: number, limit: number): Promise<RawEntry[]> {
    const board = this.#edition(name, version);
    const s = board === undefined ? undefined : this.#standings(board, period, false);
    return s?.slice(offset, offset + limit) ?? [];
  }

  async lockPeriod(name: string, version: string, period: number, owner: string, ttlMs: number): Promise<boolean> {
    const board = this.#edition(name, version);
    if (board === undefined) return false;
    const now = Date.now();
    const held = board.locks.get(period);
    if (held !== undefined && held.until > now && held.owner !== owner) return false;
    board.locks.set(period, { owner, until: now + ttlMs });
    return true;
  }

  async dropPeriod(name: string, version: string, period: number): Promise<void> {
    const board = this.#edition(name, version);
    board?.periods.delete(period);
    board?.locks.delete(period);
  }

  async close(): Promise<void> {
    // Nothing held outside this object.
  }
}
