import type { Logger } from '@gos/schema';

/** One player back in its scene after its engine was lost, drained, or stopped the scene. */
export interface ResumedPlayer {
  readonly sceneId: string;
  readonly from: string;
  readonly to: string;
  readonly why: string;
  readonly pausedMs: number;
}

interface Summary {
  readonly from: string;
  readonly to: string;
  readonly why: string;
  readonly firstAt: number;
  players: number;
  readonly scenes: Set<string>;
  maxPausedMs: number;
}

/** Scene ids a summary line names; the rest are counted. */
const SUMMARY_SCENES = 5;

/**
 * The log of resumed players: each at debug level, and one info line per move (`from` → `to`,
 * `why`) with the count, once no player of that move has resumed for `quietMs` (or `maxWaitMs`
 * after its first). A lost engine moves hundreds of players within a second or two: one line
 * each would flood the log. The timer is unref'd: it never keeps a process alive.
 */
export class ResumeLog {
  readonly #log: Logger;
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  readonly #pending = new Map<string, Summary>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param opts.quietMs @default 1000
   * @param opts.maxWaitMs @default 10000
   */
  constructor(log: Logger, opts: { quietMs?: number; maxWaitMs?: number } = {}) {
    this.#log = log;
    this.#quietMs = opts.quietMs ?? 1000;
    this.#maxWaitMs = opts.maxWaitMs ?? 10_000;
  }

  add(player: ResumedPlayer): void {
    this.#log.debug({ ...player }, 'player resumed');
    const key = `${player.from}\u0000${player.to}\u0000${player.why}`;
    let summary = this.#pending.get(key);
    if (summary === undefined) {
      summary = { from: player.from, to: player.to, why: player.why, firstAt: Date.now(), players: 0, scenes: new Set(), maxPausedMs: 0 };
      this.#pending.set(key, summary);
    }
    summary.players++;
    summary.scenes.add(player.sceneId);
    summary.maxPausedMs = Math.max(summary.maxPausedMs, player.pausedMs);
    this.#arm();
  }

  /** Log every pending summary now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const s of this.#pending.values()) this.#write(s);
    this.#pending.clear();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    let oldest = Infinity;
    for (const s of this.#pending.values()) oldest = Math.min(oldest, s.firstAt);
    const delayMs = Math.max(0, Math.min(this.#quietMs, oldest + this.#maxWaitMs - Date.now()));
    this.#timer = setTimeout(() => this.flush(), delayMs);
    this.#timer.unref();
  }

  #write(s: Summary): void {
    const scenes = [...s.scenes].slice(0, SUMMARY_SCENES);
    this.#log.info({ from: s.from, to: s.to, why: s.why, players: s.players, sceneCount: s.scenes.size, scenes, maxPausedMs: s.maxPausedMs }, 'players resumed');
  }
}
