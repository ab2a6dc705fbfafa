/**
 * Durable timers of scenes and services that run nowhere (stopped when idle, or on an engine
 * that died): every engine looks in the store for owners with a timer due soon and wakes those
 * that are placed nowhere, or placed here and not running, with a framework call
 * ({@link WAKE_MESSAGE}): the call places and starts the owner like any call, and the owner,
 * started, fires what is due. Owners running on this engine fire their own timers; owners placed
 * on another engine are that engine's to wake. Two engines waking one owner is harmless.
 */
import { ErrorCodes } from '@gos/schema';
import type { CallRouter } from './calls.js';
import type { EngineContext } from './engine-context.js';
import { WAKE_MESSAGE } from './records.js';
import type { Scenes } from './scenes.js';

/** Owners woken this long before their timer is due: started by then. */
const LOOKAHEAD_MS = 1000;
/** Owners looked at per scan (the earliest due first: owners that cannot be woken take places here). */
const SCAN_LIMIT = 2000;
/** Owners remembered between scans at most (the oldest are forgotten first). */
const MAX_REMEMBERED = 20_000;
/** An owner woken is not woken again for this long (it is starting, or its engine is about to save). */
const REWAKE_MS = 5000;
/** After a failed wake (an unknown scene type, say), the wait before the next, doubling up to this. */
const MAX_BACKOFF_MS = 60_000;

export class TimerWaker {
  readonly #ctx: EngineContext;
  readonly #calls: Pick<CallRouter, 'request'>;
  readonly #scenes: Pick<Scenes, 'running'>;
  readonly #intervalMs: number;
  /** ownerId → when it may be woken again, and the back-off after failures. */
  readonly #recent = new Map<string, { until: number; backoffMs: number }>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #scanning = false;

  constructor(ctx: EngineContext, calls: Pick<CallRouter, 'request'>, scenes: Pick<Scenes, 'running'>, intervalMs: number) {
    this.#ctx = ctx;
    this.#calls = calls;
    this.#scenes = scenes;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.#scan(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #scan(): Promise<void> {
    if (this.#scanning || !this.#ctx.running()) return;
    this.#scanning = true;
    try {
      const { o } = this.#ctx;
      const now = Date.now();
      for (const [owner, r] of this.#recent) if (r.until <= now && (r.backoffMs === 0 || r.until + MAX_BACKOFF_MS <= now)) this.#recent.delete(owner);
      // Bounded, whatever happens: a Map iterates oldest first.
      for (const owner of this.#recent.keys()) {
        if (this.#recent.size <= MAX_REMEMBERED) break;
        this.#recent.delete(owner);
      }
      const due = await o.store.dueTimers(now + LOOKAHEAD_MS, SCAN_LIMIT);
      for (const { ownerId } of due) {
        // A player's timers fire in the scene it is in, when it is in one: nothing to wake.
        if (ownerId.startsWith('@')) continue;
        if ((this.#recent.get(ownerId)?.until ?? 0) > now) continue;
        const placed = o.coordinator.placement.lookup(ownerId);
        // Another engine's owner, or running here: it fires its own timers.
        if (placed !== undefined && (placed.engineId !== o.engineId || this.#scenes.running(ownerId) !== undefined)) continue;
        this.#wake(ownerId, now);
      }
    } catch (err) {
      this.#ctx.log.warn({ err }, 'cannot look for due timers');
    } finally {
      this.#scanning = false;
    }
  }

  #wake(ownerId: string, now: number): void {
    const previous = this.#recent.get(ownerId);
    this.#recent.set(ownerId, { until: now + REWAKE_MS, backoffMs: previous?.backoffMs ?? 0 });
    void this.#calls.request('$timers', { to: ownerId, message: WAKE_MESSAGE, payload: 'null', place: true, timeoutMs: REWAKE_MS }).then((answer) => {
      if (answer.ok) {
        this.#recent.set(ownerId, { until: Date.now() + REWAKE_MS, backoffMs: 0 });
        return;
      }
      // Retryable (it moved, its engine left): soon. Anything else: back off, and say so.
      const retryable = answer.code === ErrorCodes.ENG_ERR_SCENE_MOVED || answer.code === ErrorCodes.LNK_ERR_CLOSED || answer.code === ErrorCodes.LNK_ERR_NOT_CONNECTED;
      const backoffMs = retryable ? 0 : Math.min(MAX_BACKOFF_MS, Math.max(REWAKE_MS, (previous?.backoffMs ?? 0) * 2));
      this.#recent.set(ownerId, { until: Date.now() + (retryable ? this.#intervalMs : backoffMs), backoffMs });
      if (!retryable) this.#ctx.log.warn({ ownerId, code: answer.code, retryInMs: backoffMs }, `cannot start the owner of a due timer: ${answer.message}`);
    });
  }
}
