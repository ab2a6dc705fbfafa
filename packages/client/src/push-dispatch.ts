import { CodedError, ErrorCodes, coreProtocol, framePayload, type CorePushMap, type Protocol, type PushDef } from '@gos/schema';
import { addListener, listenerError, type ClientEvents, type Listener } from './client-events.js';
import { asError, badFrame } from './errors.js';

/** Push names a client of protocol `P` can listen to: the protocol's own, plus the core pushes (`SceneRestarted`, `Notice`). */
export type PushName<P extends Protocol> = Extract<keyof P['pushes'], string> | Exclude<keyof CorePushMap, keyof P['pushes']>;

/** Payload type of push `K` of protocol `P`. */
export type PushPayload<P extends Protocol, K extends PushName<P>> = K extends keyof P['pushes']
  ? P['pushes'][K] extends PushDef<infer T>
    ? T
    : never
  : K extends keyof CorePushMap
    ? CorePushMap[K]
    : never;

/** Push listeners by name, and the decoding of PUSH frames for them. */
export class PushDispatcher {
  readonly #protocol: Protocol;
  readonly #events: ClientEvents;
  /** Game pushes by id, plus the core pushes whose names the game protocol does not reuse. */
  readonly #pushById: ReadonlyMap<number, PushDef>;
  readonly #pushNames: ReadonlySet<string>;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(protocol: Protocol, events: ClientEvents) {
    this.#protocol = protocol;
    this.#events = events;
    const byId = new Map<number, PushDef>();
    const names = new Set<string>();
    for (const def of protocol.pushById.values()) {
      byId.set(def.id, def);
      names.add(def.name);
    }
    for (const def of coreProtocol.pushById.values()) {
      if (names.has(def.name) || byId.has(def.id)) continue;
      byId.set(def.id, def);
      names.add(def.name);
    }
    this.#pushById = byId;
    this.#pushNames = names;
  }

  /** @throws CodedError `OPT_ERR_INVALID` when the protocol (or the core protocol) has no such push. */
  on(name: string, listener: Listener): () => void {
    if (!this.#pushNames.has(name)) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `unknown push "${name}": protocol "${this.#protocol.namespace}" has no such push`);
    }
    return addListener(this.#listeners, name, listener);
  }

  /** A PUSH frame: decoded only when someone listens; failures become `error` events. */
  onPush(opcode: number, bytes: Uint8Array): void {
    const def = this.#pushById.get(opcode);
    if (def === undefined) return this.#events.emit('error', badFrame(`unknown push id ${opcode}`));
    const listeners = this.#listeners.get(def.name);
    if (listeners === undefined || listeners.size === 0) return;
    let payload: unknown;
    try {
      payload = def.codec.decode(framePayload(bytes));
    } catch (err) {
      return this.#events.emit('error', asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD));
    }
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (err) {
        this.#events.emit('error', listenerError(err));
      }
    }
  }
}
