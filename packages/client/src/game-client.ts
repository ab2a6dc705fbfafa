import {
  CloseCode,
  CodedError,
  ErrorCodes,
  ErrorReplyCodec,
  FrameFlag,
  FrameKind,
  NO_RECONNECT_CLOSE_CODES,
  coreProtocol,
  encodeFrame,
  framePayload,
  readFrameHeader,
  type Codec,
  type CorePushMap,
  type ErrorReply,
  type Logger,
  type Protocol,
  type PushDef,
  type RouteDef,
} from '@gos/schema';
import { ConnectionClosedError, ServerError } from './errors.js';
import { requestTimeout, resolveGameClientOptions, type GameClientOptions, type ResolvedGameClientOptions } from './options.js';
import { nextRequestId } from './request-ids.js';
import { ReadyState, type WebSocketLike } from './websocket.js';

/** Request id of `send()` frames: `request()` ids start at 1, so errors for sends are told apart. */
const NO_REPLY_REQUEST_ID = 0;

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

/** Close code and reason of a clean close by `close()`. */
const NORMAL_CLOSURE = 1000;
const CLIENT_CLOSE_REASON = 'client closed';
/** What a socket that went away without a closing handshake reports. */
const ABNORMAL_CLOSURE = 1006;
/** uWebSockets.js closes with 1009 (message too big) itself: final like its 4009 counterpart (docs/errors.md). */
const MESSAGE_TOO_BIG = 1009;

/** Close codes after which the client does not reconnect: the gateway's list, plus 1009. */
function isFinalCloseCode(code: number): boolean {
  return NO_RECONNECT_CLOSE_CODES.has(code) || code === MESSAGE_TOO_BIG;
}

/**
 * Where the client is:
 * - `idle`: not connected and not trying to (before `connect()`, or after a final close);
 * - `connecting`: `connect()` opened a socket and waits for the gateway to accept it;
 * - `open`: accepted, requests can be sent;
 * - `reconnecting`: the connection was lost; waiting for the back-off or for an attempt;
 * - `closing` / `closed`: `close()` was called; the client cannot be used again.
 */
export type GameClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

export interface ClientOpenEvent {
  /** True when this is not the client's first accepted connection: the server resumed the session. */
  readonly resumed: boolean;
}

export interface ClientCloseEvent {
  /** WebSocket close code: 1000 after `close()`, 1006 when the connection dropped, 4001–4012 from the gateway. */
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

/** Lifecycle events and their argument. */
export interface ClientEventMap {
  open: ClientOpenEvent;
  close: ClientCloseEvent;
  reconnecting: ClientReconnectingEvent;
  /** Bad frames from the server (`SCH_ERR_BAD_FRAME`, `SCH_ERR_BAD_PAYLOAD`) and errors thrown by listeners. */
  error: Error;
}

export type ClientEventName = keyof ClientEventMap;

const EVENT_NAMES: ReadonlySet<string> = new Set<ClientEventName>(['open', 'close', 'reconnecting', 'error']);

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

export interface RequestOptions {
  /** Reject with `CLI_ERR_TIMEOUT` after this long. @default the client's `requestTimeoutMs` */
  readonly timeoutMs?: number;
}

type Listener = (arg: unknown) => void;

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
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

function unref(timer: ReturnType<typeof setTimeout>): void {
  // Node's timers have unref(); browsers' are numbers.
  (timer as { unref?: () => void }).unref?.();
}

function badFrame(message: string, cause?: unknown): CodedError {
  return new CodedError(ErrorCodes.SCH_ERR_BAD_FRAME, message, cause === undefined ? undefined : { cause });
}

function asError(err: unknown, code: string): Error {
  return err instanceof Error ? err : new CodedError(code, String(err));
}

/** What a listener threw, as the `error` event's argument (kept as is when it is an Error). */
function listenerError(err: unknown): Error {
  return err instanceof Error ? err : new Error(`a listener threw ${String(err)}`, { cause: err });
}

function describeClose(code: number, reason: string): string {
  return reason === '' ? String(code) : `${code} ${reason}`;
}

/**
 * A game client over the gateway's binary WebSocket protocol: typed requests, typed push
 * listeners, PING keep-alive and automatic reconnection with session resume.
 *
 * ```ts
 * const auth = await login(baseUrl, 'alice', 'secret-password');
 * const client = new GameClient({ url: auth.gateway, token: auth.token, protocol });
 * client.onPush('ChatLine', (line) => show(line));
 * await client.connect();
 * const api = createApi(client);
 * await api.move({ seq: 1, x: 10, y: 20 });
 * await client.close();
 * ```
 *
 * Constructing throws `OPT_ERR_INVALID` for bad options. Requests reject with the server's
 * error code (from ERROR frames), `CLI_ERR_TIMEOUT`, `CLI_ERR_CLOSED` ({@link ConnectionClosedError})
 * or the codec's `SCH_ERR_BAD_PAYLOAD`.
 */
export class GameClient<P extends Protocol = Protocol> {
  readonly #o: ResolvedGameClientOptions<P>;
  readonly #log: Logger;
  /** Game pushes by id, plus the core pushes whose names the game protocol does not reuse. */
  readonly #pushById: ReadonlyMap<number, PushDef>;
  readonly #pushNames: ReadonlySet<string>;
  readonly #pending = new Map<number, Pending>();
  readonly #events = new Map<string, Set<Listener>>();
  readonly #pushListeners = new Map<string, Set<Listener>>();
  #waiters: Waiter[] = [];

  #state: GameClientState = 'idle';
  #ws: WebSocketLike | null = null;
  /** The current socket was accepted by the gateway (PONG or any frame after open). */
  #accepted = false;
  #everAccepted = false;
  /** Reconnect attempts since the last accepted connection. */
  #attempt = 0;
  /** Which of `socketUrls` the next socket opens. */
  #urlIndex = 0;
  /** Gateways an explicit connect() may still try when the one it tried cannot be reached. */
  #fallbacksLeft = 0;
  #lastRequestId = 0;
  #lastPingId = 0;
  /** Id and send time of the latest PING, for the round-trip time. */
  #pingId = 0;
  #pingSentAt = 0;
  #rttMs: number | undefined;
  #lastClose: { readonly code: number; readonly reason: string } | null = null;
  #lastTransportError: unknown;

  #acceptTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #closePromise: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;

  /** @throws CodedError `OPT_ERR_INVALID` naming the bad option. */
  constructor(options: GameClientOptions<P>) {
    this.#o = resolveGameClientOptions(options);
    this.#log = this.#o.logger.child({ client: this.#o.protocol.namespace });
    const byId = new Map<number, PushDef>();
    const names = new Set<string>();
    for (const def of this.#o.protocol.pushById.values()) {
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

  /** The protocol given in the options. */
  get protocol(): P {
    return this.#o.protocol;
  }

  get state(): GameClientState {
    return this.#state;
  }

  /** Round-trip time of the latest answered PING, in ms; undefined before the first PONG. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Requests sent and not yet answered. */
  get pendingRequests(): number {
    return this.#pending.size;
  }

  /**
   * Open the connection. Resolves once the gateway has accepted it (see `acceptWaitMs`);
   * resolves at once when already open; while reconnecting, resolves on the next accepted
   * connection. Rejects with {@link ConnectionClosedError} (`CLI_ERR_CLOSED`, with `closeCode`)
   * when the socket closes first — e.g. 4002 for an expired token — and after `close()`.
   * A first connection that cannot reach its gateway (the connection fails, or the gateway is
   * shutting down) tries each of `fallbackUrls` in turn at once; one the gateway refuses (a bad
   * token, …) is not retried. Automatic reconnection starts once a connection has been accepted.
   */
  connect(): Promise<void> {
    switch (this.#state) {
      case 'open':
        return Promise.resolve();
      case 'closing':
      case 'closed':
        return Promise.reject(new ConnectionClosedError('the client was closed', null, ''));
      case 'connecting':
      case 'reconnecting':
        return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
      case 'idle': {
        const promise = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
        this.#state = 'connecting';
        this.#attempt = 0;
        this.#fallbacksLeft = this.#o.socketUrls.length - 1;
        this.#openSocket();
        return promise;
      }
    }
  }

  /**
   * Send an input on `route` without waiting for anything: the frame carries the `NO_REPLY`
   * flag, so the server sends no response (game state acknowledges it, e.g. a move's seq echoed
   * by ticks). If the server refuses it, an `error` event carries the server's `CodedError`.
   * Returns false, sending nothing, when the client is not connected. Throws
   * `SCH_ERR_BAD_PAYLOAD` when the payload cannot be encoded.
   */
  send<Req>(route: RouteDef<Req, unknown>, payload: NoInfer<Req>): boolean {
    if (this.#state !== 'open') return false;
    let frame: Uint8Array;
    try {
      frame = encodeFrame(FrameKind.REQUEST, route.id, NO_REPLY_REQUEST_ID, route.request.encode(payload), FrameFlag.NO_REPLY);
    } catch (err) {
      throw asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD);
    }
    return this.#send(frame);
  }

  /**
   * Send a request on `route` and resolve with the decoded response; fire-and-forget routes
   * (response null) resolve with undefined on the server's empty acknowledgement.
   *
   * Rejects with a `CodedError` carrying the server's code for ERROR frames, `CLI_ERR_TIMEOUT`
   * after `timeoutMs`, `CLI_ERR_CLOSED` when not connected or when the connection closes first,
   * `SCH_ERR_BAD_PAYLOAD` when the payload cannot be encoded or the response decoded, and
   * `OPT_ERR_INVALID` for a bad `timeoutMs`.
   */
  request<Req, Res>(route: RouteDef<Req, Res>, payload: NoInfer<Req>, opts?: RequestOptions): Promise<Res> {
    const ws = this.#ws;
    if (this.#state !== 'open' || ws === null) {
      const last = this.#lastClose;
      return Promise.reject(
        new ConnectionClosedError(`cannot send "${route.name}": the client is ${this.#state}`, last?.code ?? null, last?.reason ?? ''),
      );
    }
    let timeoutMs: number;
    let frame: Uint8Array;
    let id: number;
    try {
      timeoutMs = opts?.timeoutMs === undefined ? this.#o.requestTimeoutMs : requestTimeout(opts.timeoutMs, this.#o.requestTimeoutMs);
      id = this.#allocateRequestId();
      frame = encodeFrame(FrameKind.REQUEST, route.id, id, route.request.encode(payload));
    } catch (err) {
      return Promise.reject(asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD));
    }
    return new Promise<Res>((resolve, reject) => {
      const timer = timeoutMs === Infinity ? undefined : setTimeout(this.#onRequestTimeout, timeoutMs, id);
      const keep = route.idempotent ? frame : null;
      this.#pending.set(id, { route, resolve: resolve as (value: unknown) => void, reject, timeoutMs, timer, frame: keep, retries: 0, retryTimer: undefined });
      try {
        ws.send(frame);
      } catch (err) {
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(new ConnectionClosedError(`cannot send "${route.name}": ${String(err)}`, null, '', { cause: err }));
      }
    });
  }

  /**
   * Listen to a lifecycle event (`open`, `close`, `reconnecting`, `error`) or, for any other
   * name, to a push (same as {@link onPush}). Returns the function that removes the listener.
   * Listeners run inside the socket callback: errors they throw are reported as `error` events.
   */
  on<E extends ClientEventName>(event: E, listener: (event: ClientEventMap[E]) => void): () => void;
  on<K extends PushName<P>>(push: K, listener: (payload: PushPayload<P, K>) => void): () => void;
  on(name: string, listener: (arg: never) => void): () => void {
    if (EVENT_NAMES.has(name)) return this.#add(this.#events, name, listener as Listener);
    return this.onPush(name as PushName<P>, listener as Listener);
  }

  /**
   * Listen to push `name`: the listener gets the payload decoded with the push's codec. Returns
   * the function that removes the listener. Pushes nobody listens to are not decoded.
   * @throws CodedError `OPT_ERR_INVALID` when the protocol (or the core protocol) has no such push.
   */
  onPush<K extends PushName<P>>(name: K, listener: (payload: PushPayload<P, K>) => void): () => void {
    if (!this.#pushNames.has(name)) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `unknown push "${name}": protocol "${this.#o.protocol.namespace}" has no such push`);
    }
    return this.#add(this.#pushListeners, name, listener as Listener);
  }

  /**
   * Close the connection cleanly (code 1000), stop reconnecting and reject pending requests and
   * `connect()` calls with `CLI_ERR_CLOSED`. Resolves when the socket has closed, or after
   * `closeTimeoutMs`. Idempotent: every call returns the same promise. The client cannot be
   * connected again; make a new one.
   */
  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    this.#state = 'closing';
    this.#clearTimer('reconnect');
    this.#clearTimer('accept');
    this.#clearTimer('ping');
    const closed = (): ConnectionClosedError => new ConnectionClosedError('the client was closed', NORMAL_CLOSURE, CLIENT_CLOSE_REASON);
    this.#rejectPending(closed);
    this.#rejectWaiters(closed());
    const ws = this.#ws;
    if (ws === null) {
      this.#state = 'closed';
      this.#closePromise = Promise.resolve();
      return this.#closePromise;
    }
    this.#closePromise = new Promise<void>((resolve) => {
      this.#closeResolve = resolve;
    });
    this.#closeTimer = setTimeout(this.#onCloseTimeout, this.#o.closeTimeoutMs);
    try {
      ws.close(NORMAL_CLOSURE, CLIENT_CLOSE_REASON);
    } catch (err) {
      this.#log.debug({ err }, 'socket close threw');
      this.#onSocketClose(ws, ABNORMAL_CLOSURE, CLIENT_CLOSE_REASON);
    }
    return this.#closePromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- connection ----

  #openSocket(): void {
    let ws: WebSocketLike;
    this.#accepted = false;
    try {
      ws = new this.#o.WebSocket(this.#o.socketUrls[this.#urlIndex]!);
      ws.binaryType = 'arraybuffer';
    } catch (err) {
      this.#log.warn({ err }, 'cannot create the WebSocket');
      this.#lastTransportError = err;
      this.#ws = null;
      this.#afterClose(false, ABNORMAL_CLOSURE, 'cannot create the WebSocket');
      return;
    }
    this.#ws = ws;
    // One set of handlers per socket (not per message); they ignore sockets that were replaced.
    ws.onopen = () => {
      if (this.#ws === ws) this.#onOpen();
    };
    ws.onmessage = (event) => {
      if (this.#ws === ws) this.#onMessage(event.data);
    };
    ws.onerror = (event) => {
      if (this.#ws !== ws) return;
      this.#lastTransportError = event.error ?? event.message;
      this.#log.debug({ err: this.#lastTransportError }, 'socket error');
    };
    ws.onclose = (event) => this.#onSocketClose(ws, event.code, event.reason);
  }

  #onOpen(): void {
    if (this.#state === 'closing') return;
    if (this.#o.acceptWaitMs === 0) {
      this.#accept();
      return;
    }
    this.#sendPing();
    this.#acceptTimer = setTimeout(this.#onAcceptWaitOver, this.#o.acceptWaitMs);
  }

  readonly #onAcceptWaitOver = (): void => {
    this.#acceptTimer = undefined;
    this.#accept();
  };

  #accept(): void {
    if (this.#accepted || this.#ws === null || (this.#state !== 'connecting' && this.#state !== 'reconnecting')) return;
    this.#clearTimer('accept');
    this.#accepted = true;
    this.#state = 'open';
    this.#attempt = 0;
    this.#lastClose = null;
    const resumed = this.#everAccepted;
    this.#everAccepted = true;
    if (this.#o.pingIntervalMs > 0) {
      this.#pingTimer = setInterval(this.#onPingInterval, this.#o.pingIntervalMs);
      unref(this.#pingTimer);
    }
    this.#log.debug({ resumed }, 'connected');
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
    this.#emit('open', { resumed });
  }

  #onSocketClose(ws: WebSocketLike, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    this.#ws = null;
    const wasAccepted = this.#accepted;
    this.#accepted = false;
    this.#clearTimer('accept');
    this.#clearTimer('ping');
    this.#afterClose(wasAccepted, code, reason);
  }

  /** The socket is gone: reject what waited on it, then finish closing, reconnect or go idle. */
  #afterClose(wasAccepted: boolean, code: number, reason: string): void {
    this.#lastClose = { code, reason };
    const cause = this.#lastTransportError;
    this.#lastTransportError = undefined;
    const closedError = (what: string): ConnectionClosedError =>
      new ConnectionClosedError(
        `${what}: connection closed (${describeClose(code, reason)})`,
        code,
        reason,
        cause === undefined ? undefined : { cause },
      );
    this.#rejectPending(() => closedError('request not answered'));

    if (this.#state === 'closing') {
      this.#finishClose();
      this.#emit('close', { code, reason, willReconnect: false });
      return;
    }
    // An explicit connect() whose gateway cannot be reached (login may name one that died a
    // moment ago) tries the next one at once; a refusal by the gateway is final.
    if (this.#state === 'connecting' && !wasAccepted && this.#fallbacksLeft > 0 && (code === ABNORMAL_CLOSURE || code === CloseCode.SERVER_SHUTDOWN)) {
      this.#fallbacksLeft--;
      this.#urlIndex = (this.#urlIndex + 1) % this.#o.socketUrls.length;
      this.#log.info({ code, reason, next: this.#urlIndex }, 'gateway unreachable; trying the next one');
      this.#openSocket();
      return;
    }
    const r = this.#o.reconnect;
    // An explicit connect() that fails is reported to its caller, not retried.
    const retry =
      r.enabled && !isFinalCloseCode(code) && (wasAccepted || this.#state === 'reconnecting') && this.#attempt < r.maxAttempts;
    this.#log.info({ code, reason, willReconnect: retry }, 'connection closed');
    if (!retry) {
      this.#state = 'idle';
      this.#rejectWaiters(closedError('cannot connect'));
      this.#emit('close', { code, reason, willReconnect: false });
      return;
    }
    this.#state = 'reconnecting';
    // The gateway may be gone: a refused or failed attempt, a lost connection or a gateway
    // shutting down moves on to the next one (they share sessions).
    if (!wasAccepted || code === ABNORMAL_CLOSURE || code === CloseCode.SERVER_SHUTDOWN) {
      this.#urlIndex = (this.#urlIndex + 1) % this.#o.socketUrls.length;
    }
    this.#emit('close', { code, reason, willReconnect: true });
    // A close listener may have called close().
    if (this.#state === 'reconnecting') this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const { minDelayMs, maxDelayMs } = this.#o.reconnect;
    const attempt = ++this.#attempt;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1));
    // Jitter keeps the players of a gateway that went down from reconnecting in lockstep.
    const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.#emit('reconnecting', { attempt, delayMs });
    if (this.#state !== 'reconnecting') return;
    this.#reconnectTimer = setTimeout(this.#onReconnectDue, delayMs);
  }

  readonly #onReconnectDue = (): void => {
    this.#reconnectTimer = undefined;
    if (this.#state === 'reconnecting' && this.#ws === null) this.#openSocket();
  };

  readonly #onCloseTimeout = (): void => {
    this.#closeTimer = undefined;
    const ws = this.#ws;
    if (ws === null) return;
    this.#log.warn({ closeTimeoutMs: this.#o.closeTimeoutMs }, 'closing handshake timed out; dropping the socket');
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    this.#ws = null;
    // `ws` can drop the TCP connection at once; browsers finish on their own.
    (ws as { terminate?: () => void }).terminate?.();
    this.#finishClose();
    this.#emit('close', { code: ABNORMAL_CLOSURE, reason: 'closing handshake timed out', willReconnect: false });
  };

  #finishClose(): void {
    this.#clearTimer('close');
    this.#state = 'closed';
    const resolve = this.#closeResolve;
    this.#closeResolve = undefined;
    resolve?.();
  }

  // ---- frames ----

  #onMessage(data: unknown): void {
    if (this.#state === 'closing') return;
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else return this.#emit('error', badFrame(typeof data === 'string' ? 'the server sent a text frame' : 'the server sent a non-binary message'));
    const header = readFrameHeader(bytes);
    if (header === null) {
      const first = bytes.byteLength > 0 ? `, kind ${bytes[0]}` : '';
      return this.#emit('error', badFrame(`bad frame from the server (${bytes.byteLength} bytes${first})`));
    }
    // Any frame proves the gateway kept the socket: no need to wait for the PONG.
    if (!this.#accepted) this.#accept();
    switch (header.kind) {
      case FrameKind.RESPONSE:
        return this.#onResponse(header.opcode, header.requestId, bytes);
      case FrameKind.ERROR:
        return this.#onError(header.requestId, bytes);
      case FrameKind.PUSH:
        return this.#onPush(header.opcode, bytes);
      case FrameKind.PONG:
        if (header.requestId === this.#pingId && this.#pingSentAt > 0) {
          this.#rttMs = performance.now() - this.#pingSentAt;
          this.#pingSentAt = 0;
        }
        return;
      case FrameKind.PING:
        this.#send(encodeFrame(FrameKind.PONG, 0, header.requestId, null));
        return;
      case FrameKind.REQUEST:
        return this.#emit('error', badFrame(`the server sent a REQUEST frame (opcode ${header.opcode})`));
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
    return p;
  }

  #onResponse(opcode: number, requestId: number, bytes: Uint8Array): void {
    const p = this.#take(requestId);
    if (p === undefined) return;
    if (opcode !== p.route.id) {
      const err = badFrame(`RESPONSE to request ${requestId} has opcode ${opcode}, not route "${p.route.name}" (${p.route.id})`);
      p.reject(err);
      return this.#emit('error', err);
    }
    if (p.route.response === null) return p.resolve(undefined);
    let value: unknown;
    try {
      value = p.route.response.decode(framePayload(bytes));
    } catch (err) {
      const e = asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD);
      p.reject(e);
      return this.#emit('error', e);
    }
    p.resolve(value);
  }

  #onError(requestId: number, bytes: Uint8Array): void {
    if (requestId === NO_REPLY_REQUEST_ID) {
      // A refused send(): nobody awaits it, so it becomes an error event.
      let reply: ErrorReply;
      try {
        reply = errorReplyCodec.decode(framePayload(bytes));
      } catch (err) {
        return this.#emit('error', asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD));
      }
      return this.#emit('error', new ServerError(reply.code, reply.message, reply.retryable));
    }
    const waiting = this.#pending.get(requestId);
    if (waiting === undefined) return void this.#take(requestId);
    let reply: ErrorReply;
    try {
      reply = errorReplyCodec.decode(framePayload(bytes));
    } catch (err) {
      const e = asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD);
      this.#take(requestId)?.reject(e);
      return this.#emit('error', e);
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

  readonly #onRetry = (requestId: number): void => {
    const p = this.#pending.get(requestId);
    if (p === undefined || p.frame === null) return;
    p.retryTimer = undefined;
    // Not connected: the close already rejected it, or rejects it when the socket goes.
    if (!this.#send(p.frame)) {
      this.#take(requestId)?.reject(new ConnectionClosedError(`cannot send "${p.route.name}" again: the client is ${this.#state}`, this.#lastClose?.code ?? null, this.#lastClose?.reason ?? ''));
    }
  };

  #onPush(opcode: number, bytes: Uint8Array): void {
    const def = this.#pushById.get(opcode);
    if (def === undefined) return this.#emit('error', badFrame(`unknown push id ${opcode}`));
    const listeners = this.#pushListeners.get(def.name);
    if (listeners === undefined || listeners.size === 0) return;
    let payload: unknown;
    try {
      payload = def.codec.decode(framePayload(bytes));
    } catch (err) {
      return this.#emit('error', asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD));
    }
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (err) {
        this.#emit('error', listenerError(err));
      }
    }
  }

  // ---- requests, pings ----

  #allocateRequestId(): number {
    let id = nextRequestId(this.#lastRequestId);
    // After a wrap, skip ids still waiting for an answer.
    while (this.#pending.has(id)) id = nextRequestId(id);
    this.#lastRequestId = id;
    return id;
  }

  readonly #onRequestTimeout = (requestId: number): void => {
    const p = this.#pending.get(requestId);
    if (p === undefined) return;
    this.#pending.delete(requestId);
    clearTimeout(p.retryTimer);
    p.reject(new CodedError(ErrorCodes.CLI_ERR_TIMEOUT, `request "${p.route.name}" (id ${requestId}) not answered within ${p.timeoutMs} ms`));
  };

  readonly #onPingInterval = (): void => {
    if (this.#state === 'open') this.#sendPing();
  };

  #sendPing(): void {
    const id = (this.#lastPingId = nextRequestId(this.#lastPingId));
    if (this.#send(encodeFrame(FrameKind.PING, 0, id, null))) {
      this.#pingId = id;
      this.#pingSentAt = performance.now();
    }
  }

  #send(frame: Uint8Array): boolean {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== ReadyState.OPEN) return false;
    try {
      ws.send(frame);
      return true;
    } catch (err) {
      this.#log.debug({ err }, 'send failed');
      return false;
    }
  }

  #rejectPending(error: () => Error): void {
    if (this.#pending.size === 0) return;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      clearTimeout(p.retryTimer);
      p.reject(error());
    }
  }

  #rejectWaiters(err: Error): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(err);
  }

  #clearTimer(which: 'accept' | 'ping' | 'reconnect' | 'close'): void {
    switch (which) {
      case 'accept':
        clearTimeout(this.#acceptTimer);
        this.#acceptTimer = undefined;
        return;
      case 'ping':
        clearInterval(this.#pingTimer);
        this.#pingTimer = undefined;
        return;
      case 'reconnect':
        clearTimeout(this.#reconnectTimer);
        this.#reconnectTimer = undefined;
        return;
      case 'close':
        clearTimeout(this.#closeTimer);
        this.#closeTimer = undefined;
        return;
    }
  }

  // ---- listeners ----

  #add(map: Map<string, Set<Listener>>, name: string, listener: Listener): () => void {
    if (typeof listener !== 'function') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `listener for "${name}" must be a function`);
    let set = map.get(name);
    if (set === undefined) map.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  #emit<E extends ClientEventName>(event: E, arg: ClientEventMap[E]): void {
    const listeners = this.#events.get(event);
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
        else this.#emit('error', listenerError(err));
      }
    }
  }
}
