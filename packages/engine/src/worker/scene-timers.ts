import { CodedError, ErrorCodes } from '@gos/schema';
import type { TimerHandle } from '../api.js';

/**
 * A scene's own timers (`scene.setTimeout`, `scene.setInterval`): game code runs through `guard`
 * (its errors are logged, never fatal), and every timer still pending is cleared when the scene
 * is disposed.
 */
export class SceneTimers {
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #cleared = false;
  readonly #guard: (what: string, fn: () => unknown) => void;

  constructor(guard: (what: string, fn: () => unknown) => void) {
    this.#guard = guard;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    this.#assertLive();
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#guard('timer', fn);
    }, delayMs);
    this.#timers.add(t);
    return { cancel: () => (clearTimeout(t), this.#timers.delete(t)) };
  }

  setInterval(fn: () => void, everyMs: number): TimerHandle {
    this.#assertLive();
    const t = setInterval(() => this.#guard('interval', fn), everyMs);
    this.#timers.add(t);
    return { cancel: () => (clearInterval(t), this.#timers.delete(t)) };
  }

  /** The scene stopped: every timer is cleared, and none can be set any more. */
  clearAll(): void {
    this.#cleared = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #assertLive(): void {
    if (this.#cleared) throw new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, 'the scene has stopped: no new timer');
  }
}
