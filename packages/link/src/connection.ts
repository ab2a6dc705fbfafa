import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import { CloseReason } from './close-reason.js';
import { FIRST_USER_TYPE, FrameParser, LinkFrameType, encodeLinkFrame, type LinkFrame } from './frame.js';
import { HANDSHAKE_MAX_FRAME_BYTES, decodeReject, encodeReject } from './handshake.js';
import { HandshakeMachine } from './handshake-machine.js';
import { Heartbeat } from './heartbeat.js';
import type { ResolvedLinkOptions } from './options.js';
import type { LinkCounters, LinkStats } from './stats.js';
import { WriteBatcher } from './write-batcher.js';

/** What a connection tells its owner. Called synchronously from socket callbacks. */
export interface ConnectionHandlers {
  up(peerNodeId: string): void;
  message(type: number, channel: number, body: Uint8Array): void;
  /** `reason` is `null` after a deliberate `close()`. Called once. */
  close(reason: CodedError | null): void;
}

export interface ConnectionConfig {
  readonly role: 'client' | 'server';
  readonly options: ResolvedLinkOptions;
  /** Client only: refuse a server announcing another node id. */
  readonly expectedPeerId: string | null;
  readonly counters: LinkCounters;
  readonly logger: Logger;
  readonly handlers: ConnectionHandlers;
}

type State = 'handshake' | 'open' | 'closing' | 'closed';

const EMPTY = new Uint8Array(0);

/**
 * One authenticated, framed, batched, heart-beaten socket; the engine room shared by
 * {@link LinkPeer} (server side) and {@link LinkClient} (one per connection attempt). It owns
 * the socket, the reading and the lifecycle; the handshake, the write batch, the heartbeat and
 * the close reason are each their own unit.
 */
export class LinkConnection {
  readonly #socket: Socket;
  readonly #role: 'client' | 'server';
  readonly #options: ResolvedLinkOptions;
  readonly #counters: LinkCounters;
  readonly #handlers: ConnectionHandlers;
  readonly #parser = new FrameParser(HANDSHAKE_MAX_FRAME_BYTES);
  readonly #heartbeat: Heartbeat;
  readonly #writer: WriteBatcher;
  readonly #handshake: HandshakeMachine;
  readonly #closeReason: CloseReason;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  #log: Logger;
  #state: State = 'handshake';
  #closeTimer: NodeJS.Timeout | null = null;

  constructor(socket: Socket, config: ConnectionConfig) {
    this.#socket = socket;
    this.#role = config.role;
    this.#options = config.options;
    this.#counters = config.counters;
    this.#handlers = config.handlers;
    this.#log = config.logger;
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#heartbeat = new Heartbeat(config.options.heartbeatMs, {
      sendPing: (seq) => this.#writer.enqueue(LinkFrameType.PING, seq, EMPTY),
      silent: (reason) => this.#abort(reason),
    });
    this.#writer = new WriteBatcher(socket, config.options, config.counters, this.#heartbeat, this.#describePeer);
    this.#handshake = new HandshakeMachine(config.role, config.options, config.expectedPeerId, this.#writer);

    // Writes are already batched per turn; Nagle would only add latency on top.
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    this.#closeReason = new CloseReason(socket, config.role, this.#describePeer);
    this.#handshake.start((reason) => this.#abort(reason));
  }

  /** The peer's node id; empty until the handshake completes. */
  get peerNodeId(): string {
    return this.#handshake.peerNodeId;
  }

  get remoteAddress(): string {
    return `${this.#socket.remoteAddress ?? '?'}:${this.#socket.remotePort ?? 0}`;
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  get stats(): LinkStats {
    return { ...this.#counters, rttMs: this.#heartbeat.rttMs, queuedBytes: this.#writer.queuedBytes };
  }

  /** Resolves once the socket is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Queue an upper-layer frame for this turn's batch (or, with `holdUntil`, for a batch written
   * by then: see {@link WriteBatcher}). The body is copied before returning, so the caller may
   * reuse its buffer at once.
   * @throws CodedError `LNK_ERR_NOT_CONNECTED` during the handshake, `LNK_ERR_CLOSED` once
   *   closing, `LNK_ERR_FRAME_TOO_LARGE`, `LNK_ERR_QUEUE_FULL`; `RangeError` for a type outside
   *   16–255 or a channel outside u32.
   */
  send(type: number, channel: number, body: Uint8Array, holdUntil?: number): void {
    if (this.#state !== 'open') {
      throw this.#state === 'handshake'
        ? new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, 'link handshake not completed')
        : new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link is closed');
    }
    if ((type & 0xff) !== type || type < FIRST_USER_TYPE) {
      throw new RangeError(`link message type must be an integer from ${FIRST_USER_TYPE} to 255, got ${type}`);
    }
    if (channel >>> 0 !== channel) throw new RangeError(`link channel must be a u32, got ${channel}`);
    this.#writer.enqueue(type, channel, body, holdUntil);
  }

  /**
   * Flush what is queued, end the socket and resolve once it is closed (destroyed after
   * `closeTimeoutMs` if the peer does not finish). Idempotent.
   */
  close(): Promise<void> {
    if (this.#state === 'handshake') {
      this.#closeReason.set(null);
      this.#state = 'closing';
      this.#stopTimers();
      this.#socket.destroy();
    } else if (this.#state === 'open') {
      this.#closeReason.set(null);
      this.#state = 'closing';
      this.#stopTimers();
      this.#writer.flush();
      this.#socket.end();
      this.#destroyAfter(this.#options.closeTimeoutMs);
    }
    return this.#closed;
  }

  readonly #describePeer = (): string => this.#handshake.peerNodeId || this.remoteAddress;

  // ---- reading ----

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state !== 'handshake' && this.#state !== 'open') return;
    // A TLS record (handshake, version 3.x) where a HELLO frame (length < 512) should be.
    if (this.#counters.bytesIn === 0 && this.#role === 'server' && !this.#closeReason.tls && chunk[0] === 0x16 && chunk[1] === 0x03) {
      this.#abort(new CodedError(ErrorCodes.LNK_ERR_TLS, 'the peer speaks TLS but this link is plain TCP: set cluster.tls on every gateway and engine, or on none'));
      return;
    }
    this.#heartbeat.received(performance.now());
    this.#counters.bytesIn += chunk.length;
    this.#parser.push(chunk);
    while (this.#state === 'handshake' || this.#state === 'open') {
      let frame: LinkFrame | null;
      try {
        frame = this.#parser.next();
      } catch (err) {
        const coded = err instanceof CodedError ? err : new CodedError(ErrorCodes.SCH_ERR_BAD_FRAME, 'unparsable link data', { cause: err });
        this.#abort(
          this.#state === 'handshake'
            ? new CodedError(ErrorCodes.LNK_ERR_AUTH, `unexpected data before the handshake completed: ${coded.message}`, { cause: coded })
            : coded,
        );
        return;
      }
      if (frame === null) return;
      this.#counters.framesIn++;
      if (this.#state === 'handshake') this.#onHandshakeFrame(frame);
      else this.#onFrame(frame);
    }
  };

  #onFrame(frame: LinkFrame): void {
    if (frame.type >= FIRST_USER_TYPE) {
      this.#handlers.message(frame.type, frame.channel, frame.body);
      return;
    }
    switch (frame.type) {
      case LinkFrameType.PING:
        try {
          this.#writer.enqueue(LinkFrameType.PONG, frame.channel, EMPTY);
        } catch {
          // Queue full: we are busy sending, which keeps the peer's liveness check fed anyway.
        }
        break;
      case LinkFrameType.PONG:
        this.#heartbeat.pong(frame.channel);
        break;
      default:
        // Other reserved types are ignored, so a later link version may add some.
        break;
    }
  }

  #onHandshakeFrame(frame: LinkFrame): void {
    if (frame.type === LinkFrameType.REJECT) {
      this.#abort(new CodedError(ErrorCodes.LNK_ERR_AUTH, `peer refused the handshake: ${decodeReject(frame.body)}`));
      return;
    }
    let opened: boolean;
    try {
      opened = this.#handshake.advance(frame);
    } catch (err) {
      const coded = err instanceof CodedError ? err : new CodedError(ErrorCodes.LNK_ERR_AUTH, 'handshake failed', { cause: err });
      this.#reject(coded);
      return;
    }
    if (opened) this.#open();
  }

  #open(): void {
    this.#state = 'open';
    this.#handshake.finish();
    this.#parser.maxFrameBytes = this.#options.maxFrameBytes;
    const peerNodeId = this.#handshake.peerNodeId;
    this.#log = this.#log.child({ peerId: peerNodeId });
    this.#heartbeat.start(performance.now());
    this.#handlers.up(peerNodeId);
  }

  // ---- closing ----

  /** Refuse the handshake: tell the peer why (it closes with `LNK_ERR_AUTH` too), then end. */
  #reject(reason: CodedError): void {
    this.#closeReason.set(reason);
    this.#state = 'closing';
    this.#stopTimers();
    this.#writer.flush();
    this.#socket.end(encodeLinkFrame(LinkFrameType.REJECT, 0, encodeReject(reason.message)));
    this.#destroyAfter(this.#options.closeTimeoutMs);
  }

  /** Drop the connection now, pending writes included. */
  #abort(reason: CodedError): void {
    if (this.#state === 'closed') return;
    this.#closeReason.set(reason);
    this.#state = 'closing';
    this.#stopTimers();
    this.#writer.drop();
    this.#socket.destroy();
  }

  #destroyAfter(ms: number): void {
    if (this.#closeTimer !== null) return;
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), ms);
    this.#closeTimer.unref();
  }

  #stopTimers(): void {
    this.#handshake.stop();
    this.#heartbeat.stop();
  }

  readonly #onError = (err: Error): void => {
    this.#closeReason.socketError(err);
  };

  readonly #onEnd = (): void => {
    this.#closeReason.peerEnded(this.#state === 'handshake', this.#handshake.awaitingChallenge);
  };

  readonly #onClose = (): void => {
    this.#state = 'closed';
    this.#stopTimers();
    this.#writer.drop();
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    const reason = this.#closeReason.settle(this.#log);
    try {
      this.#handlers.close(reason);
    } finally {
      this.#resolveClosed();
    }
  };
}
