import type { Logger } from '@gos/schema';
import type { DurableTimer, SceneDefinition } from '../api.js';
import type { DurableTimers } from './durable-timers.js';
import type { RuntimePlayer } from './runtime-player.js';

/** Run game code; its promise (settled, never rejecting) when it is async. Throws and rejections are logged. */
export function guarded(logger: Logger, what: string, fn: () => unknown): Promise<void> | undefined {
  try {
    const result = fn();
    if (result instanceof Promise) return result.then(() => undefined, (err: unknown) => logger.error({ err }, `${what} rejected`));
  } catch (err) {
    logger.error({ err }, `${what} threw`);
  }
  return undefined;
}

/**
 * A scene's durable timers coming due, its own (`onTimer`) and its players' (`onPlayerTimer`).
 * A firing's removal is recorded only once its handler has settled: a save while it runs, or a
 * stop before it ran (a service's queue closing), leaves it in the store, to fire again after a
 * restart. A service takes its firings in turn with its messages.
 */
export class TimerFiring {
  readonly #scene: unknown;
  readonly #def: SceneDefinition;
  readonly #logger: Logger;
  /** A service's queue of messages (SceneCalls.serially), or null for a scene. */
  readonly #serially: ((task: () => Promise<void> | undefined, unbounded: boolean) => boolean) | null;
  readonly #markDirty: () => void;

  constructor(o: { scene: unknown; def: SceneDefinition; logger: Logger; serially: ((task: () => Promise<void> | undefined, unbounded: boolean) => boolean) | null; markDirty: () => void }) {
    this.#scene = o.scene;
    this.#def = o.def;
    this.#logger = o.logger;
    this.#serially = o.serially;
    this.#markDirty = o.markDirty;
  }

  /** A timer of the scene's own (`durable`) is due. */
  scene(durable: DurableTimers, timer: DurableTimer): void {
    const settled = (): void => {
      this.#markDirty();
      durable.fired(timer);
    };
    if (this.#def.onTimer === undefined) {
      this.#logger.warn({ timer: timer.name }, 'a durable timer fired but the scene type has no onTimer; dropped');
      return settled();
    }
    const run = (): Promise<void> | undefined => {
      const pending = guarded(this.#logger, 'onTimer', () => this.#def.onTimer?.(this.#scene as never, timer));
      if (pending === undefined) settled();
      return pending?.then(settled);
    };
    // A service takes it in turn with its messages (never refused for a full queue); a scene at once.
    if (this.#serially !== null) this.#serially(run, true);
    else void run();
  }

  /** One of `player`'s timers is due, in this scene. */
  player(player: RuntimePlayer, timer: DurableTimer): void {
    const settled = (): void => {
      player.dirty = true;
      player.timers.fired(timer);
    };
    if (this.#def.onPlayerTimer === undefined) {
      this.#logger.warn({ timer: timer.name, playerId: player.id }, 'a player timer fired but the scene type has no onPlayerTimer; dropped');
      return settled();
    }
    const pending = guarded(this.#logger, 'onPlayerTimer', () => this.#def.onPlayerTimer?.(this.#scene as never, player, timer));
    if (pending === undefined) settled();
    else void pending.then(settled);
  }
}
