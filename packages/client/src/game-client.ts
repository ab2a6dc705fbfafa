import { ErrorCodes, FrameFlag, FrameKind, encodeFrame, type Protocol, type RouteDef } from '@gos/schema';
import { ClientEvents, isClientEventName, type ClientEventMap, type ClientEventName, type Listener } from './client-events.js';
import { Connection, type GameClientState } from './connection.js';
import { asError } from './errors.js';
import { requestTimeout, resolveGameClientOptions, type GameClientOptions, type ResolvedGameClientOptions } from './options.js';
import { PushDispatcher, type PushName, type PushPayload } from './push-dispatch.js';
import { NO_REPLY_REQUEST_ID, RequestTracker, type RequestOptions } from './request-tracker.js';

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
  readonly #options: ResolvedGameClientOptions<P>;
  readonly #events: ClientEvents;
  readonly #pushes: PushDispatcher;
  readonly #connection: Connection;
  readonly #requests: RequestTracker;

  /** @throws CodedError `OPT_ERR_INVALID` naming the bad option. */
  constructor(options: GameClientOptions<P>) {
    this.#options = resolveGameClientOptions(options);
    const log = this.#options.logger.child({ client: this.#options.protocol.namespace });
    this.#events = new ClientEvents(log);
    this.#pushes = new PushDispatcher(this.#options.protocol, this.#events);
    // The hooks run on socket events only, after the constructor has set #requests.
    this.#connection = new Connection(this.#options, log, this.#events, {
      onResponse: (opcode, requestId, bytes) => this.#requests.onResponse(opcode, requestId, bytes),
      onError: (requestId, bytes) => this.#requests.onError(requestId, bytes),
      onPush: (opcode, bytes) => this.#pushes.onPush(opcode, bytes),
      rejectRequests: (error) => this.#requests.rejectAll(error),
      inFlight: () => this.#requests.inFlight(),
      released: () => this.#requests.released(),
    });
    this.#requests = new RequestTracker(log, this.#events, this.#connection);
  }

  /** The protocol given in the options. */
  get protocol(): P {
    return this.#options.protocol;
  }

  get state(): GameClientState {
    return this.#connection.state;
  }

  /** Round-trip time of the latest answered PING, in ms; undefined before the first PONG. */
  get rttMs(): number | undefined {
    return this.#connection.rttMs;
  }

  /** Requests sent and not yet answered. */
  get pendingRequests(): number {
    return this.#requests.size;
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
    return this.#connection.connect();
  }

  /**
   * Send an input on `route` without waiting for anything: the frame carries the `NO_REPLY`
   * flag, so the server sends no response (game state acknowledges it, e.g. a move's seq echoed
   * by ticks). If the server refuses it, an `error` event carries the server's `CodedError`.
   * Returns false, sending nothing, when the client is not connected. Throws
   * `SCH_ERR_BAD_PAYLOAD` when the payload cannot be encoded.
   */
  send<Req>(route: RouteDef<Req, unknown>, payload: NoInfer<Req>): boolean {
    if (this.#connection.state !== 'open') return false;
    let frame: Uint8Array;
    try {
      frame = encodeFrame(FrameKind.REQUEST, route.id, NO_REPLY_REQUEST_ID, route.request.encode(payload), FrameFlag.NO_REPLY);
    } catch (err) {
      throw asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD);
    }
    return this.#connection.send(frame);
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
    if (this.#connection.socket === null) return Promise.reject(this.#connection.notConnected(`cannot send "${route.name}"`));
    let timeoutMs: number;
    let frame: Uint8Array;
    let id: number;
    try {
      timeoutMs = opts?.timeoutMs === undefined ? this.#options.requestTimeoutMs : requestTimeout(opts.timeoutMs, this.#options.requestTimeoutMs);
      id = this.#requests.allocateId();
      frame = encodeFrame(FrameKind.REQUEST, route.id, id, route.request.encode(payload));
    } catch (err) {
      return Promise.reject(asError(err, ErrorCodes.SCH_ERR_BAD_PAYLOAD));
    }
    return this.#requests.track(route, id, frame, timeoutMs);
  }

  /**
   * Listen to a lifecycle event (`open`, `moved`, `close`, `reconnecting`, `error`) or, for any other
   * name, to a push (same as {@link onPush}). Returns the function that removes the listener.
   * Listeners run inside the socket callback: errors they throw are reported as `error` events.
   */
  on<E extends ClientEventName>(event: E, listener: (event: ClientEventMap[E]) => void): () => void;
  on<K extends PushName<P>>(push: K, listener: (payload: PushPayload<P, K>) => void): () => void;
  on(name: string, listener: (arg: never) => void): () => void {
    if (isClientEventName(name)) return this.#events.on(name, listener as Listener);
    return this.onPush(name as PushName<P>, listener as Listener);
  }

  /**
   * Listen to push `name`: the listener gets the payload decoded with the push's codec. Returns
   * the function that removes the listener. Pushes nobody listens to are not decoded.
   * @throws CodedError `OPT_ERR_INVALID` when the protocol (or the core protocol) has no such push.
   */
  onPush<K extends PushName<P>>(name: K, listener: (payload: PushPayload<P, K>) => void): () => void {
    return this.#pushes.on(name, listener as Listener);
  }

  /**
   * Close the connection cleanly (code 1000), stop reconnecting and reject pending requests and
   * `connect()` calls with `CLI_ERR_CLOSED`. Resolves when the socket has closed, or after
   * `closeTimeoutMs`. Idempotent: every call returns the same promise. The client cannot be
   * connected again; make a new one.
   */
  close(): Promise<void> {
    return this.#connection.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
