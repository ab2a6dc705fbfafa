import { CodedError, ErrorCodes, type Logger } from '@gos/schema';

export interface ClientOpenEvent {
  /** True when this is not the client's first accepted connection: the server resumed the session. */
  readonly resumed: boolean;
}

export interface ClientCloseEvent {
  /** WebSocket close code: 1000 after `close()`, 1006 when the connection dropped, 4001–4013 from the gateway. */
  readonly code: number;
  readonly reason: string;
  /** True when a reconnect attempt follows (a `reconnecting` event comes next). */
  readonly willReconnect: boolean;
}

export interface ClientReconnectingEvent {
  /** 1 for the first attempt after a loss. */
  readonly attempt: number;
  /** How long the client waits before this attempt. */
  readonly delayMs: number;
}

export interface ClientMovedEvent {
  /** The gateway the client now talks to (its socket URL, without the query). */
  readonly url: string;
}

/** Lifecycle events and their argument. */
export interface ClientEventMap {
  open: ClientOpenEvent;
  /** The client moved to another gateway (its own drained): same session, same scene, nothing lost. */
  moved: ClientMovedEvent;
  close: ClientCloseEvent;
  reconnecting: ClientReconnectingEvent;
  /** Bad frames from the server (`SCH_ERR_BAD_FRAME`, `SCH_ERR_BAD_PAYLOAD`) and errors thrown by listeners. */
  error: Error;
}

export type ClientEventName = keyof ClientEventMap;

const EVENT_NAMES: ReadonlySet<string> = new Set<ClientEventName>(['open', 'moved', 'close', 'reconnecting', 'error']);

/** `on()` takes lifecycle event names and push names: this tells them apart. */
export function isClientEventName(name: string): name is ClientEventName {
  return EVENT_NAMES.has(name);
}

export type Listener = (arg: unknown) => void;

/** Add `listener` to the set of `name` in `map`; returns the function that removes it. */
export function addListener(map: Map<string, Set<Listener>>, name: string, listener: Listener): () => void {
  if (typeof listener !== 'function') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `listener for "${name}" must be a function`);
  let set = map.get(name);
  if (set === undefined) map.set(name, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}

/** What a listener threw, as the `error` event's argument (kept as is when it is an Error). */
export function listenerError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`a listener threw ${String(err)}`, { cause: err });
}

/** The lifecycle event listeners (`open`, `close`, `reconnecting`, `error`) and their dispatch. */
export class ClientEvents {
  readonly #log: Logger;
  readonly #listeners = new Map<string, Set<Listener>>();

  constructor(log: Logger) {
    this.#log = log;
  }

  on(event: ClientEventName, listener: Listener): () => void {
    return addListener(this.#listeners, event, listener);
  }

  emit<E extends ClientEventName>(event: E, arg: ClientEventMap[E]): void {
    const listeners = this.#listeners.get(event);
    if (listeners === undefined || listeners.size === 0) {
      if (event === 'error') this.#log.warn({ err: arg }, 'client error (no error listener)');
      return;
    }
    for (const listener of listeners) {
      try {
        listener(arg);
      } catch (err) {
        // Never let a listener's exception escape into the socket callback.
        if (event === 'error') this.#log.error({ err }, 'error listener threw');
        else this.emit('error', listenerError(err));
      }
    }
  }
}
