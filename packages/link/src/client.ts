import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import { LinkConnection } from './connection.js';
import type { EngineLink } from './endpoints.js';
import { guard } from './guard.js';
import { resolveLinkClientOptions, type LinkClientOptions, type ResolvedLinkClientOptions } from './options.js';
import { newCounters, type LinkStats } from './stats.js';
import { tlsClientOptions } from './tls.js';

/** Events of a {@link LinkClient}. Every 'up' is followed by exactly one 'down'. */
export interface LinkClientEvents {
  /** The handshake completed; `peerNodeId` is the server's proven node id. Resync upper-layer state now. */
  up: [peerNodeId: string];
  /**
   * The link that was up is gone (`reason` is `null` when this side called `close()`). Nothing
   * queued survives: the client reconnects on its own and emits 'up' again.
   */
  down: [reason: CodedError | null];
  /** An upper-layer message; same retention rules as {@link LinkPeerEvents}'s 'message'. */
  message: [type: number, channel: number, body: Uint8Array];
}

type State = 'new' | 'running' | 'closing' | 'closed';

/** Attempts whose exponent is capped; 2^30 × reconnectMinMs is beyond any reconnectMaxMs anyway. */
const MAX_BACKOFF_EXPONENT = 30;

/**
 * The gateway side of the gateway ↔ engine link: dials a {@link LinkServer}, authenticates,
 * and reconnects with exponential back-off and jitter until closed.
 *
 * ```ts
 * await using link = new LinkClient({ nodeId: 'gw-1', secret, host, port });
 * link.on('up', () => resync()).on('message', (type, channel, body) => { ... });
 * await link.start();
 * ```
 */
export class LinkClient extends EventEmitter<LinkClientEvents> implements EngineLink {
  readonly transport = 'tcp';
  readonly #o: ResolvedLinkClientOptions;
  readonly #log: Logger;
  readonly #counters = newCounters();
  #state: State = 'new';
  #conn: LinkConnection | null = null;
  #up = false;
  #peerNodeId: string | null = null;
  #attempt = 0;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #lastError: CodedError | null = null;
  #closing: Promise<void> | null = null;

  /** @throws CodedError `OPT_ERR_INVALID` naming the bad option. */
  constructor(options: LinkClientOptions) {
    super();
    this.#o = resolveLinkClientOptions(options);
    this.#log = this.#o.logger.child({ link: 'client', nodeId: this.#o.nodeId, server: `${this.#o.host}:${this.#o.port}` });
  }

  /** True between 'up' and 'down': `send` works. */
  get isUp(): boolean {
    return this.#up;
  }

  /** The server's node id while up, else `null`. */
  get peerNodeId(): string | null {
    return this.#up ? this.#peerNodeId : null;
  }

  /** Why the last connection or attempt ended (`LNK_ERR_AUTH`, `LNK_ERR_NOT_CONNECTED`…); `null` once up. */
  get lastError(): CodedError | null {
    return this.#lastError;
  }

  /** Traffic counters summed over every connection of this client. */
  get stats(): LinkStats {
    return this.#conn?.stats ?? { ...this.#counters, rttMs: null, queuedBytes: 0 };
  }

  /**
   * Start dialling in the background and resolve at once; 'up' tells when the link is usable.
   * Failed attempts are retried until `close()`. Idempotent.
   * @throws CodedError `LNK_ERR_CLOSED` after `close()`.
   */
  start(): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link client is closed'));
    }
    if (this.#state === 'new') {
      this.#state = 'running';
      this.#dial();
    }
    return Promise.resolve();
  }

  /**
   * Queue a message for the server; all messages sent in one event-loop turn leave in one
   * socket write. The body is copied before this returns. Nothing is buffered across
   * reconnections.
   * @param type 16–255 (0–15 are the link's own).
   * @param channel any u32; for the gateway/engine protocol, the connection id.
   * @param holdUntil the message may wait until then (performance.now() ms) for a later write,
   *   with others that may wait: see {@link EngineLink.send}.
   * @throws CodedError `LNK_ERR_NOT_CONNECTED` while down; `LNK_ERR_CLOSED` after `close()`;
   *   `LNK_ERR_FRAME_TOO_LARGE`; `LNK_ERR_QUEUE_FULL` (the caller decides: drop, or close).
   *   `RangeError` for a bad type or channel.
   */
  send(type: number, channel: number, body: Uint8Array, holdUntil?: number): void {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link client is closed');
    }
    const conn = this.#conn;
    if (!this.#up || conn === null) {
      throw new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, `link to ${this.#o.host}:${this.#o.port} is down`, {
        cause: this.#lastError ?? undefined,
      });
    }
    conn.send(type, channel, body, holdUntil);
  }

  #dial(): void {
    this.#reconnectTimer = null;
    const { host, port, tls } = this.#o;
    const socket = tls === null ? connect({ host, port }) : tlsConnect({ ...tlsClientOptions(tls), host, port });
    const conn: LinkConnection = new LinkConnection(socket, {
      role: 'client',
      options: this.#o,
      expectedPeerId: this.#o.expectedPeerId,
      counters: this.#counters,
      logger: this.#log,
      handlers: {
        up: (peerNodeId) => {
          this.#up = true;
          this.#peerNodeId = peerNodeId;
          this.#attempt = 0;
          this.#lastError = null;
          this.#log.info({ peerId: peerNodeId }, 'link up');
          guard(this.#log, 'up', () => this.emit('up', peerNodeId));
        },
        message: (type, channel, body) => guard(this.#log, 'message', () => this.emit('message', type, channel, body)),
        close: (reason) => this.#onConnectionClosed(conn, reason),
      },
    });
    this.#conn = conn;
  }

  #onConnectionClosed(conn: LinkConnection, reason: CodedError | null): void {
    if (this.#conn !== conn) return;
    this.#conn = null;
    const wasUp = this.#up;
    this.#up = false;
    if (reason !== null) this.#lastError = reason;
    if (wasUp) {
      this.#log.warn({ err: reason ?? undefined, code: reason?.code }, 'link down');
      guard(this.#log, 'down', () => this.emit('down', reason));
    } else if (reason !== null) {
      // A wrong secret or certificate is an operator error: say it every time. Refused
      // connections while the server restarts are expected: say it once per outage.
      if (reason.code === ErrorCodes.LNK_ERR_AUTH || reason.code === ErrorCodes.LNK_ERR_TLS) this.#log.error({ err: reason, code: reason.code }, 'link handshake failed');
      else if (this.#attempt === 0) this.#log.warn({ err: reason, code: reason.code }, 'link connection failed; retrying');
      else this.#log.debug({ err: reason, code: reason.code, attempt: this.#attempt }, 'link connection failed; retrying');
    }
    if (this.#state === 'running') this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const { reconnectMinMs, reconnectMaxMs } = this.#o;
    // Exponential with "equal jitter": a random delay in [cap/2, cap], cap doubling per failed
    // attempt, so gateways that lost the same engine do not all redial in the same instant.
    const exponent = Math.min(this.#attempt + 1, MAX_BACKOFF_EXPONENT);
    const cap = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** exponent);
    const delayMs = Math.max(reconnectMinMs, Math.round(cap / 2 + (Math.random() * cap) / 2));
    this.#attempt++;
    // Kept referenced, like the sockets of the attempts: a running client keeps the process alive.
    this.#reconnectTimer = setTimeout(() => this.#dial(), Math.min(delayMs, reconnectMaxMs));
  }

  /** Stop reconnecting, flush and end the current link ('down' follows if it was up). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    await this.#conn?.close();
    this.#state = 'closed';
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
