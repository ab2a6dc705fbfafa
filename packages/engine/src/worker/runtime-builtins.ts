import { CodedError, ErrorCodes } from '@gos/schema';
import type { CallHandler, SceneDefinition } from '../api.js';
import type { Builtins } from './builtins.js';
import type { RpcPayloads } from './rpc-payloads.js';
import type { RuntimePlayer } from './runtime-player.js';

/** The parts of a scene the framework's own messages look at. */
export interface BuiltinScene {
  readonly id: string;
  readonly type: string;
  readonly state: unknown;
  readonly tick: number;
  markDirty(): void;
}

/**
 * A scene's side of the framework messages (builtins.ts): pushes to its players, and the REPL's
 * inspect, call and eval. Eval runs at the scene's next tick boundary: just before a tick (a
 * service, which has no tick: between two messages, where it is already run).
 */
export class SceneBuiltins implements Builtins {
  readonly #scene: BuiltinScene;
  readonly #def: SceneDefinition;
  readonly #payloads: RpcPayloads;
  readonly #players: ReadonlyMap<string, RuntimePlayer>;
  readonly #send: (sid: number, frame: Uint8Array) => void;
  readonly #service: boolean;
  readonly #timers: () => number;
  #atTick: Array<() => void> = [];

  constructor(o: {
    scene: BuiltinScene;
    def: SceneDefinition;
    payloads: RpcPayloads;
    players: ReadonlyMap<string, RuntimePlayer>;
    send: (sid: number, frame: Uint8Array) => void;
    service: boolean;
    timers: () => number;
  }) {
    this.#scene = o.scene;
    this.#def = o.def;
    this.#payloads = o.payloads;
    this.#players = o.players;
    this.#send = o.send;
    this.#service = o.service;
    this.#timers = o.timers;
  }

  push(playerId: string, frame: Uint8Array): boolean {
    const player = this.#players.get(playerId);
    if (player === undefined) return false;
    this.#send(player.sid, frame);
    return true;
  }

  inspect(what: 'state' | 'player' | 'summary', playerId: string | undefined): unknown {
    const s = this.#scene;
    if (what === 'state') return s.state;
    if (what === 'player') {
      const player = playerId === undefined ? undefined : this.#players.get(playerId);
      if (player === undefined) throw new CodedError(ErrorCodes.ENG_ERR_NOT_JOINED, `player ${String(playerId)} is not in ${s.id}`);
      return { id: player.id, name: player.name, data: player.data };
    }
    return { id: s.id, type: s.type, service: this.#service, tick: s.tick, timers: this.#timers(), players: [...this.#players.values()].map((p) => ({ id: p.id, name: p.name })) };
  }

  atTickBoundary(fn: () => unknown): Promise<unknown> {
    if (this.#service) return Promise.resolve().then(fn);
    return new Promise((resolve, reject) => {
      this.#atTick.push(() => {
        try {
          resolve(fn());
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }

  /** The tick is about to run: what waited for its boundary runs now. */
  runTickBoundary(): void {
    if (this.#atTick.length === 0) return;
    for (const task of this.#atTick.splice(0)) task();
  }

  callAsJson(message: string, payload: unknown, from: string, cast: boolean): unknown {
    const table = cast ? this.#def.casts : this.#def.calls;
    const handler: CallHandler | undefined = table !== undefined && Object.hasOwn(table, message) ? table[message] : undefined;
    if (handler === undefined) throw new CodedError(ErrorCodes.ENG_ERR_NO_HANDLER, `${this.#scene.id} has no ${cast ? 'cast' : 'call'} handler for ${message}`);
    return handler(this.#scene as never, this.#payloads.coerce(message, payload), from);
  }

  evaluate(fn: (scene: unknown) => unknown): unknown {
    const result = fn(this.#scene);
    // It may have changed anything: the state and every player are saved at the next save.
    this.#scene.markDirty();
    for (const player of this.#players.values()) player.markDirty();
    // Run to completion at the boundary: an async function would go on past it (and hold a service's turn).
    if (typeof (result as { then?: unknown } | null)?.then === 'function') {
      (result as Promise<unknown>).catch(() => undefined);
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'eval: the function must not be async or return a promise (it runs at a tick boundary, all at once)');
    }
    return result;
  }
}
