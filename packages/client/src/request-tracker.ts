import { CodedError, ErrorCodes, ErrorReplyCodec, framePayload, type Codec, type ErrorReply, type Logger, type RouteDef } from '@gos/schema';
import type { ClientEvents } from './client-events.js';
import { ConnectionClosedError, ServerError, asError, badFrame } from './errors.js';
import { nextRequestId } from './request-ids.js';

/** Request id of `send()` frames: `request()` ids start at 1, so errors for sends are told apart. */
export const NO_REPLY_REQUEST_ID = 0;

/** Decodes ERROR frame payloads (the core `ErrorReply` table): the one place the client depends on it. */
const errorReplyCodec: Codec<ErrorReply> = ErrorReplyCodec;

/**
 * A request on an idempotent route refused with a retryable error is sent again after
 * RETRY_FIRST_MS, doubling up to RETRY_MAX_MS, at most RETRY_MAX_ATTEMPTS times, and never past
 * its own timeout.
 */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;
const RETRY_MAX_ATTEMPTS = 30;

export interface RequestOptions {
  /** Reject with `CLI_ERR_TIMEOUT` after this long. @default the client's `requestTimeoutMs` */
  readonly timeoutMs?: number;
}

/** What the tracker needs of the connection to send a request again. */
export interface RequestTransport {
  /** Send a frame on the current socket; false when there is none that is open. */
  send(frame: Uint8Array): boolean;
  /** {@link send}, saying whether the frame went out or is held by a move to another gateway. */
  sendRequest(frame: Uint8Array): 'sent' | 'held' | false;
  /** A request was answered or gave up. */
  requestSettled(): void;
  /** The `CLI_ERR_CLOSED` error for `what` when the client is not connected. */
  notConnected(what: string): ConnectionClosedError;
}

interface Pending {
  readonly route: RouteDef;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timeoutMs: number;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
  /** The REQUEST frame, kept to send it again (idempotent routes only). */
  readonly frame: Uint8Array | null;
  /** Times it was sent again after a retryable error. */
  retries: number;
  /** Held by a move to another gateway, not sent yet. */
  held: boolean;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

/** Requests waiting for an answer: their ids, timeouts, retries of idempotent routes, and their RESPONSE and ERROR frames. */
export class RequestTracker {
  readonly #log: Logger;
  readonly #events: ClientEvents;
  readonly #transport: RequestTransport;
  readonly #pending = new Map<number, Pending>();
  #lastRequestId = 0;

  constructor(log: Logger, events: ClientEvents, transport: RequestTransport) {
    this.#log = log;
    this.#events = events;
    this.#transport = transport;
  }

  /** Requests sent and not yet answered. */
  get size(): number {
    return this.#pending.size;
  }

  allocateId(): number {
    let id = nextRequestId(this.#lastRequestId);
    // After a wrap, skip ids still waiting for an answer.
    while (this.#pending.has(id)) id = nextRequestId(id);
    this.#lastRequestId = id;
    return id;
  }

  /** Send request `id` (its REQUEST frame) and wait for its answer, at most `timeoutMs`. */
  track<Req, Res>(route: RouteDef<Req, Res>, id: number, frame: Uint8Array, timeoutMs: number): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      const timer = timeoutMs === Infinity ? undefined : setTimeout(this.#onTimeout, timeoutMs, id);
      const keep = route.idempotent ? frame : null;
      const pending: Pending = { route, resolve: resolve as (value: unknown) => void, reject, timeoutMs, timer, frame: keep, retries: 0, retryTimer: undefined, held: false };
      this.#pending.set(id, pending);
      let sent: 'sent' | 'held' | false;
      try {
        sent = this.#transport.sendRequest(frame);
      } catch (err) {
        sent = false;
        this.#log.debug({ err }, 'send failed');
      }
      if (sent === false) {
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(this.#transport.notConnected(`cannot send "${route.name}"`));
        return;
      }
      pending.held = sent === 'held';
    });
  }

  /** Requests sent and not answered yet, not counting those a move holds. */
  inFlight(): number {
    let n = 0;
    // One waiting to be sent again after a retryable error is not under way on the socket.
    for (const p of this.#pending.values()) if (!p.held && p.retryTimer === undefined) n++;
    return n;
  }

  /** The frames a move held went out on the new socket. */
  released(): void {
    for (const p of this.#pending.values()) p.held = false;
  }

  onResponse(opcode: number, requestId: number, bytes: Uint8Array): void {
    const p = this.#take(requestId);
    if (p === undefined) return;
    if (opcode !== p.route.id) {
      const err = badFrame(`RESPONSE to request ${requestId} has opcode ${opcode}, not route "${p.route.name}" (${p.route.id})`);
      p.reject(err);
      return this.#events.emit('error', err);
    }
    if (p.route.response === null) return p.resolve(undefined);
    let value: unknown;
    try {
      value = p.route.response.decode(framePayload(bytes));
    } catch (err) {
      const e = asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD);
      p.reject(e);
      return this.#events.emit('error', e);
    }
    p.resolve(value);
  }

  onError(requestId: number, bytes: Uint8Array): void {
    if (requestId === NO_REPLY_REQUEST_ID) {
      // A refused send(): nobody awaits it, so it becomes an error event.
      let reply: ErrorReply;
      try {
        reply = errorReplyCodec.decode(framePayload(bytes));
      } catch (err) {
        return this.#events.emit('error', asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD));
      }
      return this.#events.emit('error', new ServerError(reply.code, reply.message, reply.retryable));
    }
    const waiting = this.#pending.get(requestId);
    if (waiting === undefined) return void this.#take(requestId);
    let reply: ErrorReply;
    try {
      reply = errorReplyCodec.decode(framePayload(bytes));
    } catch (err) {
      const e = asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD);
      this.#take(requestId)?.reject(e);
      return this.#events.emit('error', e);
    }
    if (reply.retryable && waiting.frame !== null && waiting.retryTimer === undefined && waiting.retries < RETRY_MAX_ATTEMPTS) {
      // An idempotent request the server could not serve for now (its scene is being placed
      // again, …): sent again, with the same id, until answered or its own timeout fires.
      const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** waiting.retries);
      waiting.retries++;
      this.#log.debug({ requestId, route: waiting.route.name, code: reply.code, delayMs, retries: waiting.retries }, 'retrying idempotent request');
      waiting.retryTimer = setTimeout(this.#onRetry, delayMs, requestId);
      return;
    }
    this.#take(requestId)?.reject(new ServerError(reply.code, reply.message, reply.retryable));
  }

  /** Reject every pending request with a fresh `error()` (the connection closed). */
  rejectAll(error: () => Error): void {
    if (this.#pending.size === 0) return;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      clearTimeout(p.retryTimer);
      p.reject(error());
    }
  }

  #take(requestId: number): Pending | undefined {
    const p = this.#pending.get(requestId);
    if (p === undefined) {
      // Usually the answer to a request that already timed out.
      this.#log.debug({ requestId }, 'answer to no pending request');
      return undefined;
    }
    this.#pending.delete(requestId);
    clearTimeout(p.timer);
    clearTimeout(p.retryTimer);
    this.#transport.requestSettled();
    return p;
  }

  readonly #onRetry = (requestId: number): void => {
    const p = this.#pending.get(requestId);
    if (p === undefined || p.frame === null) return;
    p.retryTimer = undefined;
    // Not connected: the close already rejected it, or rejects it when the socket goes.
    const sent = this.#transport.sendRequest(p.frame);
    if (sent === false) {
      this.#take(requestId)?.reject(this.#transport.notConnected(`cannot send "${p.route.name}" again`));
      return;
    }
    p.held = sent === 'held';
  };

  readonly #onTimeout = (requestId: number): void => {
    const p = this.#pending.get(requestId);
    if (p === undefined) return;
    this.#pending.delete(requestId);
    clearTimeout(p.retryTimer);
    this.#transport.requestSettled();
    p.reject(new CodedError(ErrorCodes.CLI_ERR_TIMEOUT, `request "${p.route.name}" (id ${requestId}) not answered within ${p.timeoutMs} ms`));
  };
}
