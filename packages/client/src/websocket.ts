/**
 * The part of the WebSocket API the client uses, typed loosely enough that both the browser's
 * `WebSocket` and the `ws` package's class fit without a cast.
 */

/**
 * A handler type checked bivariantly (like a method), so that `ws`'s and the DOM's handlers,
 * whose event parameters are richer than the ones below, are assignable.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

export interface SocketMessageEvent {
  readonly data: unknown;
}

export interface SocketCloseEvent {
  readonly code: number;
  readonly reason: string;
}

export interface SocketErrorEvent {
  /** `ws` sets these; browsers give no detail. */
  readonly message?: string;
  readonly error?: unknown;
}

/** One WebSocket, browser or `ws`. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<SocketMessageEvent> | null;
  onclose: Handler<SocketCloseEvent> | null;
  onerror: Handler<SocketErrorEvent> | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `import WebSocket from 'ws'` in Node. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** `WebSocket.readyState` values (the same in every implementation). */
export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;
