/**
 * A backend's subscriptions (both backends): each `subscribe` call is one registration, heard
 * until it is removed. A frame handed to several handlers is copied for each, so one handler
 * changing its bytes never changes another's; a handler that throws is logged, and the others
 * still hear the frame.
 */
import type { Logger } from '@gos/schema';
import type { ChannelName } from './types.js';

/** What `subscribe` is given. */
export type FrameHandler = (channel: ChannelName, frame: Uint8Array) => void;

/** One `subscribe` call's registration. */
export interface Subscription {
  readonly onFrame: FrameHandler;
  /** False once it is removed (unsubscribed, or its backend closed). */
  active: boolean;
}

export class Subscribers {
  readonly #subs = new Set<Subscription>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get size(): number {
    return this.#subs.size;
  }

  /** The registrations now, for a delivery that happens later (memory backend). */
  snapshot(): Subscription[] {
    return [...this.#subs];
  }

  add(onFrame: FrameHandler): Subscription {
    const sub: Subscription = { onFrame, active: true };
    this.#subs.add(sub);
    return sub;
  }

  /** Remove one registration: false when it was removed already. */
  remove(sub: Subscription): boolean {
    const had = this.#subs.delete(sub);
    sub.active = false;
    return had;
  }

  clear(): void {
    for (const sub of this.#subs) sub.active = false;
    this.#subs.clear();
  }

  /**
   * Hand `frame` (the caller's to give away) to `to` (the current registrations by default),
   * skipping any removed meanwhile.
   */
  deliver(channel: ChannelName, frame: Uint8Array, to: readonly Subscription[] = this.snapshot()): void {
    const live = to.filter((s) => s.active);
    const frames = live.map((_, i) => (i === 0 ? frame : new Uint8Array(frame)));
    live.forEach((sub, i) => {
      // Removed by an earlier handler of this same delivery: it no longer hears anything.
      if (!sub.active) return;
      try {
        sub.onFrame(channel, frames[i] ?? new Uint8Array(frame));
      } catch (err) {
        this.#log.warn({ err, channel }, 'chat subscriber threw on a frame');
      }
    });
  }
}
