/**
 * The log of joins refused by rule (a scene placed elsewhere, an engine or scene full, …): each
 * at debug level, and one warn line per scene and code with the count, once no join of that
 * kind has been refused for `quietMs` (or `maxWaitMs` after the first). A stale placement can
 * send hundreds of joins back within a second: one line each would flood the log. The timer is
 * unref'd: it never keeps a process alive.
 */
import type { Logger } from '@gos/schema';

interface Summary {
  readonly sceneId: string;
  readonly code: string;
  readonly message: string;
  readonly firstAt: number;
  players: number;
}

export class JoinRefusals {
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

  add(sceneId: string, playerId: string, code: string, message: string): void {
    this.#log.debug({ code, sceneId, playerId }, `join refused: ${message}`);
    const key = `${sceneId}\u0000${code}`;
    const summary = this.#pending.get(key);
    if (summary === undefined) this.#pending.set(key, { sceneId, code, message, firstAt: Date.now(), players: 1 });
    else summary.players++;
    // A burst that goes on for maxWaitMs is written without waiting for a quiet spell.
    if (summary !== undefined && Date.now() - summary.firstAt >= this.#maxWaitMs) {
      this.#write(key, summary);
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.flush(), this.#quietMs);
    this.#timer.unref();
  }

  /** Write every line pending now (the quiet spell is over; a test may call it). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const [key, s] of [...this.#pending]) this.#write(key, s);
  }

  #write(key: string, s: Summary): void {
    this.#pending.delete(key);
    this.#log.warn({ code: s.code, sceneId: s.sceneId, players: s.players }, `joins refused: ${s.message}`);
  }
}
