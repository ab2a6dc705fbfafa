/**
 * Config data on a scene thread (docs/config-data.md): per worker thread, the latest bundle the
 * engine offered (its BroadcastChannel), loaded once by the game's `config` loader for every
 * scene the thread hosts; per scene, `scene.config` switched at the scene's next tick (a
 * service's: at once, between two of its messages' synchronous parts) and `onConfigReload`
 * called. A bundle the loader throws on is refused on this thread and the one in force stays.
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { Logger } from '@gos/schema';
import type { Scene, SceneDefinition } from '../api.js';
import { isConfigMessage, type ConfigOffer } from '../config-records.js';
import { guarded } from './timer-firing.js';

interface Loaded {
  readonly seq: number;
  readonly version: string;
  readonly value: unknown;
}

type Loader = ((bundle: unknown) => unknown) | undefined;

/** The bundles one engine offers to this thread. */
class ThreadConfig {
  latest: Loaded | null = null;
  readonly listeners = new Set<() => void>();
  readonly #loader: Loader;
  readonly #log: Logger;

  constructor(name: string, loader: Loader, logger: Logger) {
    this.#loader = loader;
    this.#log = logger;
    const channel = new BroadcastChannel(name);
    channel.unref();
    channel.onmessage = (e: unknown) => {
      const data: unknown = (e as { data?: unknown }).data;
      if (!isConfigMessage(data)) {
        this.#log.error('bad config message from the engine; ignored');
        return;
      }
      if (this.offer(data)) for (const l of this.listeners) l();
    };
  }

  /** Load `o` if it is newer: whether it is now the latest. */
  offer(o: ConfigOffer): boolean {
    if (this.latest !== null && o.seq <= this.latest.seq) return false;
    let value: unknown;
    try {
      value = this.#loader === undefined ? deepFreeze(o.bundle) : this.#loader(o.bundle);
    } catch (err) {
      this.#log.error({ err, seq: o.seq, version: o.version, inForce: this.latest?.version ?? null }, "config bundle refused by the game's loader; the one in force stays");
      return false;
    }
    this.latest = { seq: o.seq, version: o.version, value };
    return true;
  }
}

const threads = new Map<string, ThreadConfig>();

function deepFreeze(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/** What the scene exposes as `scene.config` / `scene.configVersion`. */
export interface ConfigHolder {
  config: unknown;
  configVersion: string | null;
}

export class SceneConfig {
  readonly #thread: ThreadConfig;
  readonly #holder: ConfigHolder & Scene;
  readonly #def: SceneDefinition;
  readonly #log: Logger;
  readonly #listener: () => void;
  #applied = 0;
  #pending = false;

  constructor(o: { holder: ConfigHolder & Scene; def: SceneDefinition; channel: string; initial: ConfigOffer | null; loader: Loader; service: boolean; logger: Logger }) {
    let thread = threads.get(o.channel);
    if (thread === undefined) threads.set(o.channel, (thread = new ThreadConfig(o.channel, o.loader, o.logger)));
    this.#thread = thread;
    this.#holder = o.holder;
    this.#def = o.def;
    this.#log = o.logger;
    if (o.initial !== null) thread.offer(o.initial);
    // In force before onCreate, without the hook.
    const latest = thread.latest;
    if (latest !== null) this.#set(latest);
    this.#listener = o.service ? () => this.#apply() : () => (this.#pending = true);
    thread.listeners.add(this.#listener);
  }

  /** At the start of a tick: a newer bundle is switched to now. */
  atTick(): void {
    if (!this.#pending) return;
    this.#pending = false;
    this.#apply();
  }

  close(): void {
    this.#thread.listeners.delete(this.#listener);
  }

  #set(latest: Loaded): void {
    this.#holder.config = latest.value;
    this.#holder.configVersion = latest.version;
    this.#applied = latest.seq;
  }

  #apply(): void {
    const latest = this.#thread.latest;
    if (latest === null || latest.seq <= this.#applied) return;
    const previous = this.#holder.configVersion;
    this.#set(latest);
    void guarded(this.#log, 'onConfigReload', () => this.#def.onConfigReload?.(this.#holder, latest.value, previous));
  }
}
