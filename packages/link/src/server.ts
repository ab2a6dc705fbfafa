import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import { LinkConnection } from './connection.js';
import { guard } from './guard.js';
import { resolveLinkServerOptions, type LinkServerOptions, type ResolvedLinkServerOptions } from './options.js';
import { LinkPeer } from './peer.js';
import { newCounters } from './stats.js';
import { tlsServerOptions } from './tls.js';

/** Events of a {@link LinkServer}. */
export interface LinkServerEvents {
  /** A peer completed the handshake. Attach its 'message' and 'close' listeners now. */
  peer: [peer: LinkPeer];
}

type State = 'new' | 'starting' | 'listening' | 'closing' | 'closed';

/**
 * The engine side of the gateway ↔ engine link: listens, authenticates each connecting
 * {@link LinkClient} with the cluster secret, and hands each one out as a {@link LinkPeer}.
 *
 * ```ts
 * await using server = new LinkServer({ nodeId: 'engine-1', secret });
 * server.on('peer', (peer) => peer.on('message', (type, channel, body) => { ... }));
 * await server.start();
 * ```
 */
export class LinkServer extends EventEmitter<LinkServerEvents> {
  readonly #o: ResolvedLinkServerOptions;
  readonly #log: Logger;
  readonly #connections = new Set<LinkConnection>();
  readonly #peers = new Set<LinkPeer>();
  #server: Server | null = null;
  #state: State = 'new';
  #port = 0;
  #starting: Promise<void> | null = null;
  #closing: Promise<void> | null = null;

  /** @throws CodedError `OPT_ERR_INVALID` naming the bad option. */
  constructor(options: LinkServerOptions) {
    super();
    this.#o = resolveLinkServerOptions(options);
    this.#log = this.#o.logger.child({ link: 'server', nodeId: this.#o.nodeId });
  }

  /**
   * The port listened on (the ephemeral one when `port` was 0).
   * @throws CodedError `LNK_ERR_NOT_CONNECTED` before `start()` resolved or after `close()`.
   */
  get port(): number {
    if (this.#state !== 'listening') throw new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, 'link server is not listening');
    return this.#port;
  }

  /** Linked peers (handshake completed, not yet closed). */
  get peers(): readonly LinkPeer[] {
    return [...this.#peers];
  }

  /**
   * Listen on `host:port`. Idempotent.
   * @throws CodedError `LNK_ERR_CLOSED` after `close()`; `LNK_ERR_PORT_IN_USE` when the port is
   *   taken; any other listen error as Node raised it (e.g. `EACCES`).
   */
  start(): Promise<void> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link server is closed'));
    }
    this.#starting ??= this.#listen();
    return this.#starting;
  }

  #listen(): Promise<void> {
    this.#state = 'starting';
    const tls = this.#o.tls;
    // Over TLS, a connection reaches #onConnection once the TLS handshake has verified the
    // peer's certificate; one refused never does, and is logged here.
    const server =
      tls === null
        ? createServer({ noDelay: true }, this.#onConnection)
        : createTlsServer({ ...tlsServerOptions(tls, this.#o.handshakeTimeoutMs), noDelay: true }, this.#onConnection).on('tlsClientError', this.#onTlsError);
    this.#server = server;
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.#server = null;
        this.#starting = null;
        if (this.#state === 'starting') this.#state = 'new';
        const { host, port } = this.#o;
        reject((err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new CodedError(ErrorCodes.LNK_ERR_PORT_IN_USE, `cannot listen on ${host}:${port}: the port is in use`, { cause: err }) : err);
      };
      server.once('error', onError);
      server.listen({ host: this.#o.host, port: this.#o.port }, () => {
        server.off('error', onError);
        server.on('error', (err: Error) => this.#log.error({ err }, 'link server error'));
        this.#port = (server.address() as AddressInfo).port;
        if (this.#state === 'starting') this.#state = 'listening';
        this.#log.info({ host: this.#o.host, port: this.#port }, 'link server listening');
        resolve();
      });
    });
  }

  readonly #onTlsError = (err: Error, socket: TLSSocket): void => {
    // Node ends a socket whose certificate fails verification with a bare "socket hang up";
    // the verification result says why.
    const verified: unknown = socket.authorizationError; // typed as an Error, it is OpenSSL's code
    const why = typeof verified === 'string' ? verified : err.message;
    this.#log.warn({ code: ErrorCodes.LNK_ERR_TLS, err }, `link connection refused: TLS handshake failed: ${why}`);
  };

  readonly #onConnection = (socket: Socket): void => {
    if (this.#state !== 'listening') {
      socket.destroy();
      return;
    }
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    if (this.#connections.size >= this.#o.maxPeers) {
      this.#log.warn({ remote, maxPeers: this.#o.maxPeers }, 'link connection refused: maxPeers reached');
      socket.destroy();
      return;
    }
    let peer: LinkPeer | null = null;
    const log = this.#log.child({ remote });
    const conn: LinkConnection = new LinkConnection(socket, {
      role: 'server',
      options: this.#o,
      expectedPeerId: null,
      counters: newCounters(),
      logger: log,
      handlers: {
        up: (peerNodeId) => {
          const linked = new LinkPeer(conn, peerNodeId);
          peer = linked;
          this.#peers.add(linked);
          log.info({ peerId: peerNodeId }, 'link peer up');
          guard(log, 'peer', () => this.emit('peer', linked));
        },
        message: (type, channel, body) => {
          const linked = peer;
          if (linked !== null) guard(log, 'message', () => linked.emit('message', type, channel, body));
        },
        close: (reason) => {
          this.#connections.delete(conn);
          const linked = peer;
          if (linked === null) return;
          this.#peers.delete(linked);
          log.info({ peerId: linked.nodeId, code: reason?.code }, 'link peer down');
          guard(log, 'close', () => linked.emit('close', reason));
        },
      },
    });
    this.#connections.add(conn);
  };

  /**
   * Stop listening, flush and end every link (handshakes in progress are dropped), resolve
   * once all sockets and the listener are closed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    await this.#starting?.catch(() => undefined);
    const server = this.#server;
    this.#server = null;
    const listenerClosed = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...this.#connections].map((conn) => conn.close()));
    await listenerClosed;
    this.#state = 'closed';
    this.#log.info('link server closed');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
