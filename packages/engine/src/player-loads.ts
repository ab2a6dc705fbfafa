/**
 * Players joining at the same moment (a scene moving in live, a crowd logging in, a resume)
 * have their rows claimed and read together: the joins of one turn of the event loop make one
 * `store.claimPlayers` (one transaction for all of them, their timers read in it) instead of a
 * claim and a timer read each. With a scene of 100 players moving in, that was 200 round trips
 * through the store's few connections; it is one batch now.
 *
 * Each player's writes still queued here land first (the claim fences off whoever wrote them
 * before). A player asked for twice in one turn is claimed once per request, in two batches,
 * as separate claims would be.
 */
import { MAX_CLAIM_BATCH, type TimerRecord } from '@gos/store';
import type { EngineContext } from './engine-context.js';

export interface LoadedPlayer {
  /** The data last saved; null for a player never saved. */
  readonly data: unknown;
  readonly timers: readonly TimerRecord[];
  /** The scene the row names; null when none. */
  readonly sceneId: string | null;
}

interface Waiting {
  readonly playerId: string;
  readonly resolve: (loaded: LoadedPlayer) => void;
  readonly reject: (err: unknown) => void;
}

export class PlayerLoads {
  readonly #ctx: EngineContext;
  #queue: Waiting[] = [];
  #scheduled = false;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Claim the player's row (fencing off its earlier owner) and read it with its timers. */
  load(playerId: string): Promise<LoadedPlayer> {
    return new Promise<LoadedPlayer>((resolve, reject) => {
      this.#queue.push({ playerId, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    // Distinct players per batch, at most MAX_CLAIM_BATCH each; a repeat goes to a later batch.
    while (queue.length > 0) {
      const batch: Waiting[] = [];
      const ids = new Set<string>();
      const later: Waiting[] = [];
      for (const w of queue) {
        if (ids.has(w.playerId) || batch.length >= MAX_CLAIM_BATCH) later.push(w);
        else {
          ids.add(w.playerId);
          batch.push(w);
        }
      }
      queue.length = 0;
      queue.push(...later);
      void this.#claim(batch);
    }
  }

  async #claim(batch: readonly Waiting[]): Promise<void> {
    const { persister, o } = this.#ctx;
    try {
      await Promise.all(batch.map((w) => persister.settle('player', w.playerId)));
      const claimed = await o.store.claimPlayers(batch.map((w) => w.playerId));
      batch.forEach((w, i) => {
        const c = claimed[i]!;
        persister.seed('player', w.playerId, c.record?.version ?? 0, c.fence);
        w.resolve({ data: c.record?.data ?? null, timers: c.timers, sceneId: c.sceneId });
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
