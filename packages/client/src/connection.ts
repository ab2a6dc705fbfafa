import { CORE_PUSH, ErrorCodes, FrameKind, ReconnectCodec, encodeFrame, framePayload, type Logger } from '@gos/schema';
import type { ClientEvents } from './client-events.js';
import { ABNORMAL_CLOSURE, CLIENT_CLOSE_REASON, NORMAL_CLOSURE, describeClose } from './close-codes.js';
import { ConnectWaiters } from './connect-waiters.js';
import { ConnectionClosedError, asError, badFrame } from './errors.js';
import { GatewayMove, type MovePort } from './gateway-move.js';
import { readInboundFrame } from './inbound-frame.js';
import { KeepAlive } from './keep-alive.js';
import { socketUrl, type ResolvedGameClientOptions } from './options.js';
import { ReconnectSchedule } from './reconnect-schedule.js';
import { ReadyState, type WebSocketLike } from './websocket.js';

/**
 * Where the client is:
 * - `idle`: not connected and not trying to (before `connect()`, or after a final close);
 * - `connecting`: `connect()` opened a socket and waits for the gateway to accept it;
 * - `open`: accepted, requests can be sent;
 * - `reconnecting`: the connection was lost; waiting for the back-off or for an attempt;
 * - `closing` / `closed`: `close()` was called; the client cannot be used again.
 */
export type GameClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

/** What the connection hands on: the frames of requests and pushes, and the requests to fail when the socket goes. */
export interface ConnectionHooks {
  onResponse(opcode: number, requestId: number, bytes: Uint8Array): void;
  onError(requestId: number, bytes: Uint8Array): void;
  onPush(opcode: number, bytes: Uint8Array): void;
  /** The socket is gone or the client closes: reject every pending request with a fresh `error()`. */
  rejectRequests(error: () => Error): void;
  /** Requests sent on the socket and not answered yet (not counting those held by a move). */
  inFlight(): number;
  /** The frames a move held were sent on the new socket: their requests are under way there. */
  released(): void;
}

/** The socket's state machine: connect, accept, lose and reconnect, close. */
export class Connection {
  readonly #options: ResolvedGameClientOptions;
  readonly #log: Logger;
  readonly #events: ClientEvents;
  readonly #hooks: ConnectionHooks;
  readonly #reconnect: ReconnectSchedule;
  readonly #keepAlive: KeepAlive;
  readonly #waiters = new ConnectWaiters();

  #state: GameClientState = 'idle';
  #ws: WebSocketLike | null = null;
  /** The current socket was accepted by the gateway (PONG or any frame after open). */
  #accepted = false;
  #everAccepted = false;
  #lastClose: { readonly code: number; readonly reason: string } | null = null;
  #lastTransportError: unknown;
  #acceptTimer: ReturnType<typeof setTimeout> | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #closePromise: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  /** A move to another gateway under way (core push Reconnect): frames sent meanwhile are held. */
  #move: GatewayMove | null = null;
  #moves = 0;
  /** Sockets a move left whose frames still count (answers, pushes) until they close. */
  readonly #leaving = new Set<WebSocketLike>();
  readonly #movePort: MovePort;

  constructor(options: ResolvedGameClientOptions, log: Logger, events: ClientEvents, hooks: ConnectionHooks) {
    this.#options = options;
    this.#log = log;
    this.#events = events;
    this.#hooks = hooks;
    this.#reconnect = new ReconnectSchedule(options.socketUrls, options.reconnect);
    this.#movePort = this.#makeMovePort();
    this.#keepAlive = new KeepAlive(options.pingIntervalMs, (frame) => this.#sendNow(frame), () => this.#state === 'open' && this.#move === null);
  }

  get state(): GameClientState {
    return this.#state;
  }

  get rttMs(): number | undefined {
    return this.#keepAlive.rttMs;
  }

  /** The socket requests go out on: null unless the connection is open. */
  get socket(): WebSocketLike | null {
    return this.#state === 'open' ? this.#ws : null;
  }

  /** The `CLI_ERR_CLOSED` error for `what` while not connected, with the last close code and reason. */
  notConnected(what: string): ConnectionClosedError {
    const last = this.#lastClose;
    return new ConnectionClosedError(`${what}: the client is ${this.#state}`, last?.code ?? null, last?.reason ?? '');
  }

  /** See `GameClient.connect()`. */
  connect(): Promise<void> {
    switch (this.#state) {
      case 'open':
        return Promise.resolve();
      case 'closing':
      case 'closed':
        return Promise.reject(new ConnectionClosedError('the client was closed', null, ''));
      case 'connecting':
      case 'reconnecting':
        return this.#waiters.wait();
      case 'idle': {
        const promise = this.#waiters.wait();
        this.#state = 'connecting';
        this.#reconnect.beginConnect();
        this.#openSocket();
        return promise;
      }
    }
  }

  /** See `GameClient.close()`. */
  close(): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    this.#state = 'closing';
    this.#reconnect.cancel();
    this.#clearAcceptTimer();
    this.#keepAlive.stop();
    const move = this.#move;
    this.#move = null;
    move?.end();
    for (const ws of this.#leaving) if (ws !== this.#ws) closeQuietly(ws, NORMAL_CLOSURE, CLIENT_CLOSE_REASON);
    this.#leaving.clear();
    const closed = (): ConnectionClosedError => new ConnectionClosedError('the client was closed', NORMAL_CLOSURE, CLIENT_CLOSE_REASON);
    this.#hooks.rejectRequests(closed);
    this.#waiters.rejectAll(closed());
    const ws = this.#ws;
    if (ws === null) {
      this.#state = 'closed';
      this.#closePromise = Promise.resolve();
      return this.#closePromise;
    }
    this.#closePromise = new Promise<void>((resolve) => {
      this.#closeResolve = resolve;
    });
    this.#closeTimer = setTimeout(this.#onCloseTimeout, this.#options.closeTimeoutMs);
    try {
      ws.close(NORMAL_CLOSURE, CLIENT_CLOSE_REASON);
    } catch (err) {
      this.#log.debug({ err }, 'socket close threw');
      this.#onSocketClose(ws, ABNORMAL_CLOSURE, CLIENT_CLOSE_REASON);
    }
    return this.#closePromise;
  }

  /**
   * Send a frame on the current socket; false when there is none that is open, or sending failed.
   * During a move to another gateway the frame is held, and sent there in order (true).
   */
  send(frame: Uint8Array): boolean {
    return this.sendRequest(frame) !== false;
  }

  /** {@link send}, saying whether the frame went out or waits for a move to end. */
  sendRequest(frame: Uint8Array): 'sent' | 'held' | false {
    if (this.#move !== null) {
      this.#move.hold(frame);
      return 'held';
    }
    return this.#sendNow(frame) ? 'sent' : false;
  }

  /** A request was answered or gave up: a move waiting for the requests under way may go on. */
  requestSettled(): void {
    this.#move?.settled();
  }

  #sendNow(frame: Uint8Array): boolean {
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

  #openSocket(url = this.#reconnect.url): void {
    let ws: WebSocketLike;
    this.#accepted = false;
    try {
      ws = new this.#options.WebSocket(url);
      ws.binaryType = 'arraybuffer';
    } catch (err) {
      this.#log.warn({ err }, 'cannot create the WebSocket');
      this.#lastTransportError = err;
      this.#ws = null;
      if (this.#move !== null) return this.#move.failed(ABNORMAL_CLOSURE, 'cannot create the WebSocket');
      this.#afterClose(false, ABNORMAL_CLOSURE, 'cannot create the WebSocket');
      return;
    }
    this.#ws = ws;
    // One set of handlers per socket (not per message); they ignore sockets that were replaced.
    ws.onopen = () => {
      if (this.#ws === ws) this.#onOpen();
    };
    ws.onmessage = (event) => {
      if (this.#ws === ws || this.#leaving.has(ws)) this.#onMessage(event.data, ws);
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
    if (this.#options.acceptWaitMs === 0) {
      this.#accept();
      return;
    }
    this.#keepAlive.ping();
    this.#acceptTimer = setTimeout(this.#onAcceptWaitOver, this.#options.acceptWaitMs);
  }

  readonly #onAcceptWaitOver = (): void => {
    this.#acceptTimer = undefined;
    this.#accept();
  };

  #accept(): void {
    if (this.#accepted || this.#ws === null) return;
    if (this.#move?.opening === true) {
      this.#clearAcceptTimer();
      this.#accepted = true;
      return this.#move.accepted();
    }
    if (this.#state !== 'connecting' && this.#state !== 'reconnecting') return;
    this.#clearAcceptTimer();
    this.#accepted = true;
    this.#state = 'open';
    this.#reconnect.onAccepted();
    this.#lastClose = null;
    const resumed = this.#everAccepted;
    this.#everAccepted = true;
    this.#keepAlive.start();
    this.#log.debug({ resumed }, 'connected');
    this.#waiters.resolveAll();
    this.#events.emit('open', { resumed });
  }

  /** A frame on `ws`: the current socket, or one a move is leaving (its answers and pushes still count). */
  #onMessage(data: unknown, ws: WebSocketLike): void {
    if (this.#state === 'closing') return;
    const frame = readInboundFrame(data);
    if (frame instanceof Error) return this.#events.emit('error', frame);
    const { header, bytes } = frame;
    const current = ws === this.#ws;
    // Any frame proves the gateway kept the socket: no need to wait for the PONG.
    if (current && !this.#accepted) this.#accept();
    switch (header.kind) {
      case FrameKind.RESPONSE:
        return this.#hooks.onResponse(header.opcode, header.requestId, bytes);
      case FrameKind.ERROR:
        return this.#hooks.onError(header.requestId, bytes);
      case FrameKind.PUSH:
        if (header.opcode === CORE_PUSH.Reconnect && current) this.#startMove(bytes);
        return this.#hooks.onPush(header.opcode, bytes);
      case FrameKind.PONG:
        if (this.#move?.pong(header.requestId) === true) return;
        return this.#keepAlive.onPong(header.requestId);
      case FrameKind.PING:
        // Answered on the socket it came on, never held by a move.
        try {
          ws.send(encodeFrame(FrameKind.PONG, 0, header.requestId, null));
        } catch (err) {
          this.#log.debug({ err }, 'cannot answer a PING');
        }
        return;
      case FrameKind.REQUEST:
        return this.#events.emit('error', badFrame(`the server sent a REQUEST frame (opcode ${header.opcode})`));
    }
  }

  #onSocketClose(ws: WebSocketLike, code: number, reason: string): void {
    if (this.#ws !== ws) {
      // A socket a move left: its gateway closed it (the seat taken over), or it went away.
      this.#leaving.delete(ws);
      return;
    }
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    this.#ws = null;
    const wasAccepted = this.#accepted;
    this.#accepted = false;
    this.#clearAcceptTimer();
    if (this.#move !== null) return this.#move.failed(code, reason);
    this.#keepAlive.stop();
    this.#afterClose(wasAccepted, code, reason);
  }

  // ---- moving to another gateway (core push Reconnect: the gateway drains) ----

  #startMove(bytes: Uint8Array): void {
    const ws = this.#ws;
    if (this.#state !== 'open' || this.#move !== null || ws === null) return;
    let url: string;
    try {
      url = socketUrl(ReconnectCodec.decode(framePayload(bytes)).url, this.#options.token, this.#options.protocol.version);
    } catch (err) {
      return this.#events.emit('error', asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD));
    }
    this.#log.info({ url: url.replace(/token=[^&]*/, 'token=…') }, 'the gateway drains: moving to another one');
    this.#move = new GatewayMove(url, ws, this.#movePort, ++this.#moves);
    this.#move.start();
  }

  /** What a move does to the connection (gateway-move.ts). */
  #makeMovePort(): MovePort {
    return {
    inFlight: () => this.#hooks.inFlight(),
    openSocket: (url) => {
      if (this.#ws !== null) this.#leaving.add(this.#ws);
      this.#openSocket(url);
    },
    current: () => this.#ws,
    dropCurrent: () => {
      const ws = this.#ws;
      if (ws === null) return;
      ws.onopen = ws.onmessage = ws.onclose = null;
      // `ws` reports closing a socket still connecting as an error: heard, and ignored.
      ws.onerror = () => {};
      closeQuietly(ws, NORMAL_CLOSURE, 'not accepted in time');
      this.#ws = null;
      this.#clearAcceptTimer();
    },
    restore: (ws) => {
      this.#leaving.delete(ws);
      this.#ws = ws;
      this.#accepted = true;
    },
    sendNow: (frame) => this.#sendNow(frame),
    released: () => this.#hooks.released(),
    over: () => {
      this.#move = null;
    },
    lost: (code, reason, url) => {
      this.#keepAlive.stop();
      this.#afterClose(true, code, reason);
      this.#reconnect.useUrl(url);
    },
    moved: (url) => {
      // Reconnects after a later loss start with the new gateway.
      this.#reconnect.useUrl(url);
      this.#events.emit('moved', { url: url.replace(/[?].*$/, '') });
    },
    log: this.#log,
    };
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
    this.#hooks.rejectRequests(() => closedError('request not answered'));

    if (this.#state === 'closing') {
      this.#finishClose();
      this.#events.emit('close', { code, reason, willReconnect: false });
      return;
    }
    if (this.#state === 'connecting' && !wasAccepted && this.#reconnect.tryFallback(code)) {
      this.#log.info({ code, reason, next: this.#reconnect.urlIndex }, 'gateway unreachable; trying the next one');
      this.#openSocket();
      return;
    }
    const retry = this.#reconnect.shouldRetry(code, wasAccepted || this.#state === 'reconnecting');
    this.#log.info({ code, reason, willReconnect: retry }, 'connection closed');
    if (!retry) {
      this.#state = 'idle';
      this.#waiters.rejectAll(closedError('cannot connect'));
      this.#events.emit('close', { code, reason, willReconnect: false });
      return;
    }
    this.#state = 'reconnecting';
    this.#reconnect.afterLoss(code, wasAccepted);
    this.#events.emit('close', { code, reason, willReconnect: true });
    // A close listener may have called close().
    if (this.#state === 'reconnecting') this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const event = this.#reconnect.nextAttempt();
    this.#events.emit('reconnecting', event);
    if (this.#state !== 'reconnecting') return;
    this.#reconnect.schedule(event.delayMs, this.#onReconnectDue);
  }

  readonly #onReconnectDue = (): void => {
    if (this.#state === 'reconnecting' && this.#ws === null) this.#openSocket();
  };

  readonly #onCloseTimeout = (): void => {
    this.#closeTimer = undefined;
    const ws = this.#ws;
    if (ws === null) return;
    this.#log.warn({ closeTimeoutMs: this.#options.closeTimeoutMs }, 'closing handshake timed out; dropping the socket');
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    this.#ws = null;
    // `ws` can drop the TCP connection at once; browsers finish on their own.
    (ws as { terminate?: () => void }).terminate?.();
    this.#finishClose();
    this.#events.emit('close', { code: ABNORMAL_CLOSURE, reason: 'closing handshake timed out', willReconnect: false });
  };

  #finishClose(): void {
    clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#state = 'closed';
    const resolve = this.#closeResolve;
    this.#closeResolve = undefined;
    resolve?.();
  }

  #clearAcceptTimer(): void {
    clearTimeout(this.#acceptTimer);
    this.#acceptTimer = undefined;
  }
}

/** Close `ws`, ignoring a socket that cannot be closed any more. */
function closeQuietly(ws: WebSocketLike, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed, or closing
  }
}
