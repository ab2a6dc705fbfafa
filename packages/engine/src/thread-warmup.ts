/**
 * An engine's scene threads import the game as they start (worker/entry.ts), and the engine
 * registers in the cluster only once they have: a scene placed on a new engine (moved in live by
 * a drain or the leader's rebalancing, say) then starts at once instead of waiting for a thread
 * to boot and import the game, which costs its players most of a second on a busy machine.
 *
 * Each thread says so on a BroadcastChannel named in the pool's workerData, once its import has
 * settled (warm-records.ts). The message crosses a thread boundary, so it is checked where it is read.
 */
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { isWarmMessage, type WarmMessage } from './warm-records.js';

export interface WarmOutcome {
  /** Threads whose import succeeded. */
  readonly warm: number;
  /** The errors of threads whose import failed (the first scene of each sees it too). */
  readonly failed: readonly string[];
  /** Not every thread said so within the time allowed. */
  readonly timedOut: boolean;
  readonly ms: number;
}

/** The main thread's side: made before the pool, so that no thread can post before it listens. */
export class ThreadWarmup {
  readonly channelName = `gos-engine-warm-${randomUUID()}`;
  readonly #channel = new BroadcastChannel(this.channelName);
  readonly #messages: WarmMessage[] = [];
  #wake: (() => void) | null = null;

  constructor() {
    // Never what keeps a process alive: wait() holds a timer of its own.
    this.#channel.unref();
    this.#channel.onmessage = (event) => {
      const data: unknown = (event as MessageEvent).data;
      if (!isWarmMessage(data)) return;
      this.#messages.push(data);
      this.#wake?.();
    };
  }

  /** Until `threads` threads said their import settled, `timeoutMs`, or `signal` aborts; the channel is closed after. */
  async wait(threads: number, timeoutMs: number, signal?: AbortSignal): Promise<WarmOutcome> {
    const began = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.#wake = () => {
          if (this.#messages.length >= threads) resolve();
        };
        this.#wake();
        timer = setTimeout(() => {
          timedOut = true;
          resolve();
        }, timeoutMs);
        onAbort = resolve;
        if (signal?.aborted === true) resolve();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
      this.#wake = null;
      this.close();
    }
    const failed = this.#messages.flatMap((m) => (m.ok ? [] : [m.error]));
    return { warm: this.#messages.length - failed.length, failed, timedOut, ms: Math.round(performance.now() - began) };
  }

  close(): void {
    this.#channel.close();
  }
}
