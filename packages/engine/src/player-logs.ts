/**
 * Player logs, the engine main thread's part (docs/player-logs.md): the events scenes append
 * (FromScene.LOGS) wait in a bounded queue and are written to the store in batches (one
 * `append` of up to BATCH events at a time, at least every `flushMs`), so logging never waits
 * on the database. A failed write is retried with back-off, the events kept; past `maxQueued`
 * waiting events the oldest are dropped, counted and logged (not those of a batch being
 * written: the queue may exceed `maxQueued` by one batch meanwhile). Old events are pruned every
 * PRUNE_EVERY_MS once `retentionDays` have passed. `close()` writes what is left.
 */
import { ErrorCodes, isCodedError, type Logger } from '@gos/schema';
import type { PlayerLogEntry, PlayerLogStore } from '@gos/store';
import type { LogRecordEntry } from './log-records.js';

const BATCH = 2000;
const MAX_RETRY_MS = 10_000;
const PRUNE_EVERY_MS = 10 * 60_000;
const PRUNE_BATCH = 10_000;
const DAY_MS = 86_400_000;

export interface PlayerLogWriterOptions {
  readonly store: PlayerLogStore;
  readonly flushMs: number;
  readonly maxQueued: number;
  /** Events older than this are deleted; 0 keeps them forever. */
  readonly retentionDays: number;
  readonly logger: Logger;
}

export class PlayerLogWriter {
  readonly #o: PlayerLogWriterOptions;
  #queue: PlayerLogEntry[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  #writing: Promise<void> | null = null;
  #retryMs = 0;
  #closed = false;
  #written = 0;
  #dropped = 0;
  /** Events at the queue's head being written now (never dropped while they are). */
  #inFlight = 0;

  constructor(o: PlayerLogWriterOptions) {
    this.#o = o;
  }

  /** Events waiting to be written. */
  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Running totals, for the metrics. */
  get stats(): { readonly written: number; readonly dropped: number; readonly queued: number } {
    return { written: this.#written, dropped: this.#dropped, queued: this.queued };
  }

  /** Starts the pruning; the writes are scheduled as events come (nothing runs while none does). */
  start(): void {
    if (this.#o.retentionDays > 0) {
      this.#pruneTimer = setInterval(() => void this.#prune(), PRUNE_EVERY_MS);
      this.#pruneTimer.unref();
      void this.#prune();
    }
  }

  /** Events of scene `sceneId`. */
  add(sceneId: string, entries: readonly LogRecordEntry[]): void {
    for (const e of entries) this.#queue.push({ playerId: e.p, at: e.t, event: e.e, sceneId, fields: e.f });
    // The oldest not being written go (a batch being written stays: its outcome decides), also
    // from memory at once: a store that is down must not take the engine's memory with it.
    const over = Math.min(this.queued - this.#o.maxQueued, this.queued - this.#inFlight);
    if (over > 0) {
      this.#queue = [...this.#queue.slice(this.#head, this.#head + this.#inFlight), ...this.#queue.slice(this.#head + this.#inFlight + over)];
      this.#head = 0;
      this.#dropped += over;
      this.#o.logger.error({ dropped: over, maxQueued: this.#o.maxQueued }, 'player-log events dropped: the store is not keeping up');
    }
    if (this.queued >= BATCH && this.#writing === null && this.#retryMs === 0) this.#schedule(0);
    // The first event since the queue emptied: written within flushMs. (While a write runs, its
    // loop takes new events, or its end schedules them; while a retry waits, its timer is set.)
    else if (this.#timer === null && this.#writing === null) this.#schedule(this.#o.flushMs);
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#writing ??= this.#write().finally(() => {
        this.#writing = null;
        // Events that came after the loop's last look: written within flushMs too.
        if (this.queued > 0 && this.#timer === null && this.#retryMs === 0) this.#schedule(this.#o.flushMs);
      });
    }, ms);
    this.#timer.unref();
  }

  /** Write batches until the queue is empty or a write fails (then retry later). */
  async #write(): Promise<void> {
    while (this.queued > 0) {
      const batch = this.#queue.slice(this.#head, this.#head + BATCH);
      this.#inFlight = batch.length;
      try {
        this.#written += await this.#append(batch);
      } catch (err) {
        this.#inFlight = 0;
        this.#retryMs = Math.min(MAX_RETRY_MS, Math.max(this.#o.flushMs, this.#retryMs * 2));
        this.#o.logger.warn({ err, queued: this.queued, retryInMs: this.#retryMs }, 'cannot write player-log events; kept and retried');
        if (!this.#closed) this.#schedule(this.#retryMs);
        return;
      }
      this.#retryMs = 0;
      this.#inFlight = 0;
      this.#head += batch.length;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
    }
  }

  /**
   * Append a batch. The store refuses a whole batch for one malformed event (`OPT_ERR_INVALID`:
   * never fixed by retrying): then the events are written one by one and the bad ones dropped,
   * counted and logged, so that one bad player id cannot stop an engine's logging.
   */
  async #append(batch: readonly PlayerLogEntry[]): Promise<number> {
    try {
      await this.#o.store.append(batch);
      return batch.length;
    } catch (err) {
      if (!isCodedError(err) || err.code !== ErrorCodes.OPT_ERR_INVALID) throw err;
      let written = 0;
      for (const entry of batch) {
        try {
          await this.#o.store.append([entry]);
          written++;
        } catch (one) {
          if (!isCodedError(one) || one.code !== ErrorCodes.OPT_ERR_INVALID) throw one;
          this.#dropped++;
          this.#o.logger.error({ err: one, playerId: entry.playerId.slice(0, 64), event: entry.event, sceneId: entry.sceneId }, 'player-log event refused by the store; dropped');
        }
      }
      return written;
    }
  }

  async #prune(): Promise<void> {
    const before = Date.now() - this.#o.retentionDays * DAY_MS;
    try {
      let total = 0;
      for (;;) {
        const n = await this.#o.store.prune(before, PRUNE_BATCH);
        total += n;
        if (n < PRUNE_BATCH || this.#closed) break;
      }
      if (total > 0) this.#o.logger.info({ pruned: total, before: new Date(before).toISOString() }, 'old player-log events deleted');
    } catch (err) {
      this.#o.logger.warn({ err }, 'cannot prune player-log events; trying again later');
    }
  }

  /** Stop the timers and write what is queued (one attempt each batch). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#pruneTimer !== null) clearInterval(this.#pruneTimer);
    await this.#writing;
    await this.#write();
    if (this.queued > 0) this.#o.logger.error({ lost: this.queued }, 'player-log events not written before the engine stopped');
  }
}
