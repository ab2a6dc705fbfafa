import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import {
  FIRST_USER_TYPE,
  FrameParser,
  LINK_FRAME_HEADER_BYTES,
  LinkFrameType,
  encodeLinkFrame,
  writeFrameHeader,
  type LinkFrame,
} from './frame.js';
import {
  HANDSHAKE_MAX_FRAME_BYTES,
  computeProof,
  decodeChallenge,
  decodeHello,
  decodeReject,
  encodeChallenge,
  encodeHello,
  encodeReject,
  newNonce,
  proofMatches,
} from './handshake.js';
import type { ResolvedLinkOptions } from './options.js';
import { isTlsError } from './tls.js';

/** Traffic counters of a link, a snapshot. Bytes are wire bytes, headers and link frames included. */
export interface LinkStats {
  /** Frames received (handshake, PING and PONG included). */
  readonly framesIn: number;
  /** Frames handed to the socket. */
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** `socket.write` calls: one per flushed batch, so `framesOut / writes` is the batching factor. */
  readonly writes: number;
  /** Round trip of the last answered PING, in ms; `null` before the first. */
  readonly rttMs: number | null;
  /** Bytes waiting to be written: the current batch plus the socket's buffer (0 when closed). */
  readonly queuedBytes: number;
}

/** Mutable counters; a client shares one object across its reconnections. */
export interface LinkCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  writes: number;
}

export function newCounters(): LinkCounters {
  return { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, writes: 0 };
}

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
/** The handshake frame this side waits for. */
type Step = 'hello' | 'challenge' | 'proof' | 'ready';

const EMPTY = new Uint8Array(0);
/** First batch buffer size: small batches come from Node's shared allocation pool (< 4 KiB). */
const MIN_BATCH_BYTES = 2048;
/** Close reasons logged as warnings: a misconfigured or misbehaving peer. */
const WARN_CODES: ReadonlySet<string> = new Set([
  ErrorCodes.LNK_ERR_AUTH,
  ErrorCodes.LNK_ERR_TLS,
  ErrorCodes.LNK_ERR_FRAME_TOO_LARGE,
  ErrorCodes.SCH_ERR_BAD_FRAME,
]);

const HANDSHAKE_NAMES: Readonly<Record<number, string>> = {
  [LinkFrameType.HELLO]: 'HELLO',
  [LinkFrameType.CHALLENGE]: 'CHALLENGE',
  [LinkFrameType.PROOF]: 'PROOF',
  [LinkFrameType.READY]: 'READY',
};

/**
 * One authenticated, framed, batched, heart-beaten socket; the engine room shared by
 * {@link LinkPeer} (server side) and {@link LinkClient} (one per connection attempt).
 */
export class LinkConnection {
  readonly #socket: Socket;
  readonly #role: 'client' | 'server';
  readonly #o: ResolvedLinkOptions;
  readonly #expectedPeerId: string | null;
  readonly #counters: LinkCounters;
  readonly #handlers: ConnectionHandlers;
  readonly #parser = new FrameParser(HANDSHAKE_MAX_FRAME_BYTES);
  readonly #closed: Promise<void>;
  #log: Logger;
  #resolveClosed!: () => void;

  #state: State = 'handshake';
  #step: Step;
  #connected: boolean;
  readonly #tls: boolean;
  /** Over TLS: the TLS handshake is done (a server's sockets arrive so). */
  #secure: boolean;
  readonly #nonce = newNonce();
  #peerNonce: Buffer | null = null;
  #peerNodeId = '';
  /** First reason wins; `undefined` until one is known, `null` for a deliberate close. */
  #reason: CodedError | null | undefined = undefined;

  // This turn's outgoing frames, packed back to back; written with one socket.write.
  #batch: Buffer | null = null;
  #batchBytes = 0;
  #batchFrames = 0;
  #flushImmediate: NodeJS.Immediate | null = null;

  #handshakeTimer: NodeJS.Timeout | null = null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #heartbeatDueAt = 0;
  #closeTimer: NodeJS.Timeout | null = null;
  #lastReceivedAt = 0;
  #lastSentAt = 0;
  #pingSeq = 0;
  #pingSentAt = 0;
  #rttMs: number | null = null;

  constructor(socket: Socket, config: ConnectionConfig) {
    this.#socket = socket;
    this.#role = config.role;
    this.#o = config.options;
    this.#expectedPeerId = config.expectedPeerId;
    this.#counters = config.counters;
    this.#handlers = config.handlers;
    this.#log = config.logger;
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#connected = config.role === 'server';
    this.#tls = socket instanceof TLSSocket;
    this.#secure = config.role === 'server';
    this.#step = config.role === 'server' ? 'hello' : 'challenge';

    // Writes are already batched per turn; Nagle would only add latency on top.
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    if (!this.#connected) socket.once('connect', () => (this.#connected = true));
    if (this.#tls && !this.#secure) socket.once('secureConnect', () => (this.#secure = true));

    this.#handshakeTimer = setTimeout(() => {
      this.#handshakeTimer = null;
      this.#abort(new CodedError(ErrorCodes.LNK_ERR_AUTH, `handshake not completed within ${this.#o.handshakeTimeoutMs} ms`));
    }, this.#o.handshakeTimeoutMs);
    this.#handshakeTimer.unref();

    if (this.#role === 'client') this.#enqueue(LinkFrameType.HELLO, 0, encodeHello(this.#nonce, this.#o.nodeId));
  }

  /** The peer's node id; empty until the handshake completes. */
  get peerNodeId(): string {
    return this.#peerNodeId;
  }

  get remoteAddress(): string {
    return `${this.#socket.remoteAddress ?? '?'}:${this.#socket.remotePort ?? 0}`;
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  get stats(): LinkStats {
    return { ...this.#counters, rttMs: this.#rttMs, queuedBytes: this.#batchBytes + (this.#socket.destroyed ? 0 : this.#socket.writableLength) };
  }

  /** Resolves once the socket is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Queue an upper-layer frame for this turn's batch. The body is copied before returning, so
   * the caller may reuse its buffer at once.
   * @throws CodedError `LNK_ERR_NOT_CONNECTED` during the handshake, `LNK_ERR_CLOSED` once
   *   closing, `LNK_ERR_FRAME_TOO_LARGE`, `LNK_ERR_QUEUE_FULL`; `RangeError` for a type outside
   *   16–255 or a channel outside u32.
   */
  send(type: number, channel: number, body: Uint8Array): void {
    if (this.#state !== 'open') {
      throw this.#state === 'handshake'
        ? new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, 'link handshake not completed')
        : new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link is closed');
    }
    if ((type & 0xff) !== type || type < FIRST_USER_TYPE) {
      throw new RangeError(`link message type must be an integer from ${FIRST_USER_TYPE} to 255, got ${type}`);
    }
    if (channel >>> 0 !== channel) throw new RangeError(`link channel must be a u32, got ${channel}`);
    this.#enqueue(type, channel, body);
  }

  /**
   * Flush what is queued, end the socket and resolve once it is closed (destroyed after
   * `closeTimeoutMs` if the peer does not finish). Idempotent.
   */
  close(): Promise<void> {
    if (this.#state === 'handshake') {
      this.#setReason(null);
      this.#state = 'closing';
      this.#stopTimers();
      this.#socket.destroy();
    } else if (this.#state === 'open') {
      this.#setReason(null);
      this.#state = 'closing';
      this.#stopTimers();
      this.#flushNow();
      this.#socket.end();
      this.#destroyAfter(this.#o.closeTimeoutMs);
    }
    return this.#closed;
  }

  // ---- writing ----

  #enqueue(type: number, channel: number, body: Uint8Array): void {
    const frameBytes = LINK_FRAME_HEADER_BYTES + body.byteLength;
    if (frameBytes > this.#o.maxFrameBytes) {
      throw new CodedError(
        ErrorCodes.LNK_ERR_FRAME_TOO_LARGE,
        `link frame of ${frameBytes} bytes exceeds maxFrameBytes ${this.#o.maxFrameBytes}`,
      );
    }
    const queued = this.#socket.writableLength + this.#batchBytes;
    if (queued + frameBytes > this.#o.maxQueuedBytes) {
      throw new CodedError(
        ErrorCodes.LNK_ERR_QUEUE_FULL,
        `${queued} bytes already queued to ${this.#peerNodeId || this.remoteAddress}; maxQueuedBytes is ${this.#o.maxQueuedBytes}`,
      );
    }
    const batch = this.#reserve(frameBytes);
    writeFrameHeader(batch, this.#batchBytes, type, channel, body.byteLength);
    batch.set(body, this.#batchBytes + LINK_FRAME_HEADER_BYTES);
    this.#batchBytes += frameBytes;
    this.#batchFrames++;
    // setImmediate rather than queueMicrotask: microtasks run after every single callback, so a
    // turn that handles many socket reads (or a scene tick answering many connections) would
    // still write once per callback. The check phase runs once per loop iteration, after all of
    // this iteration's I/O callbacks, so everything sent in the iteration leaves in one write,
    // at the cost of less than one loop iteration of latency.
    this.#flushImmediate ??= setImmediate(this.#flush);
  }

  #reserve(frameBytes: number): Buffer {
    const needed = this.#batchBytes + frameBytes;
    const current = this.#batch;
    if (current !== null && needed <= current.length) return current;
    // Doubling keeps appends amortised O(1); never more than the queue bound (plus one frame).
    const capacity = Math.max(needed, Math.min(Math.max(MIN_BATCH_BYTES, (current?.length ?? 0) * 2), this.#o.maxQueuedBytes));
    const next = Buffer.allocUnsafe(capacity);
    if (current !== null) current.copy(next, 0, 0, this.#batchBytes);
    this.#batch = next;
    return next;
  }

  readonly #flush = (): void => {
    this.#flushImmediate = null;
    this.#flushNow();
  };

  #flushNow(): void {
    if (this.#flushImmediate !== null) {
      clearImmediate(this.#flushImmediate);
      this.#flushImmediate = null;
    }
    const batch = this.#batch;
    if (batch === null || this.#batchBytes === 0) return;
    const data = batch.subarray(0, this.#batchBytes);
    // The socket owns `data` until written; the next send starts a fresh buffer.
    this.#batch = null;
    this.#counters.bytesOut += this.#batchBytes;
    this.#counters.framesOut += this.#batchFrames;
    this.#batchBytes = 0;
    this.#batchFrames = 0;
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#counters.writes++;
    this.#lastSentAt = performance.now();
    this.#socket.write(data);
  }

  #dropBatch(): void {
    if (this.#flushImmediate !== null) clearImmediate(this.#flushImmediate);
    this.#flushImmediate = null;
    this.#batch = null;
    this.#batchBytes = 0;
    this.#batchFrames = 0;
  }

  // ---- reading ----

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state !== 'handshake' && this.#state !== 'open') return;
    // A TLS record (handshake, version 3.x) where a HELLO frame (length < 512) should be.
    if (this.#role === 'server' && !this.#tls && this.#counters.bytesIn === 0 && chunk[0] === 0x16 && chunk[1] === 0x03) {
      this.#abort(new CodedError(ErrorCodes.LNK_ERR_TLS, 'the peer speaks TLS but this link is plain TCP: set cluster.tls on every gateway and engine, or on none'));
      return;
    }
    this.#lastReceivedAt = performance.now();
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
          this.#enqueue(LinkFrameType.PONG, frame.channel, EMPTY);
        } catch {
          // Queue full: we are busy sending, which keeps the peer's liveness check fed anyway.
        }
        break;
      case LinkFrameType.PONG:
        if (this.#pingSentAt !== 0 && frame.channel === this.#pingSeq) {
          this.#rttMs = performance.now() - this.#pingSentAt;
          this.#pingSentAt = 0;
        }
        break;
      default:
        // Other reserved types are ignored, so a later link version may add some.
        break;
    }
  }

  // ---- handshake ----

  #onHandshakeFrame(frame: LinkFrame): void {
    if (frame.type === LinkFrameType.REJECT) {
      this.#abort(new CodedError(ErrorCodes.LNK_ERR_AUTH, `peer refused the handshake: ${decodeReject(frame.body)}`));
      return;
    }
    let opened: boolean;
    try {
      opened = this.#handshakeStep(frame);
    } catch (err) {
      const coded = err instanceof CodedError ? err : new CodedError(ErrorCodes.LNK_ERR_AUTH, 'handshake failed', { cause: err });
      this.#reject(coded);
      return;
    }
    if (opened) this.#open();
  }

  /** Advance the handshake; true when it is complete. @throws CodedError `LNK_ERR_AUTH` */
  #handshakeStep(frame: LinkFrame): boolean {
    const o = this.#o;
    switch (this.#step) {
      case 'hello': {
        expectType(frame, LinkFrameType.HELLO);
        const hello = decodeHello(frame.body);
        this.#peerNodeId = hello.nodeId;
        this.#peerNonce = hello.nonce;
        const proof = computeProof(o.secret, 'server', hello.nonce, this.#nonce, hello.nodeId, o.nodeId);
        this.#enqueue(LinkFrameType.CHALLENGE, 0, encodeChallenge(this.#nonce, proof, o.nodeId));
        this.#step = 'proof';
        return false;
      }
      case 'challenge': {
        expectType(frame, LinkFrameType.CHALLENGE);
        const challenge = decodeChallenge(frame.body);
        if (this.#expectedPeerId !== null && challenge.nodeId !== this.#expectedPeerId) {
          throw new CodedError(ErrorCodes.LNK_ERR_AUTH, `server is "${challenge.nodeId}", expected "${this.#expectedPeerId}"`);
        }
        const expected = computeProof(o.secret, 'server', this.#nonce, challenge.nonce, o.nodeId, challenge.nodeId);
        if (!proofMatches(expected, challenge.proof)) {
          throw new CodedError(ErrorCodes.LNK_ERR_AUTH, 'server proof does not match: the cluster secrets differ');
        }
        this.#peerNodeId = challenge.nodeId;
        const proof = computeProof(o.secret, 'client', this.#nonce, challenge.nonce, o.nodeId, challenge.nodeId);
        this.#enqueue(LinkFrameType.PROOF, 0, proof);
        this.#step = 'ready';
        return false;
      }
      case 'proof': {
        expectType(frame, LinkFrameType.PROOF);
        const expected = computeProof(o.secret, 'client', this.#peerNonce!, this.#nonce, this.#peerNodeId, o.nodeId);
        if (!proofMatches(expected, frame.body)) {
          throw new CodedError(ErrorCodes.LNK_ERR_AUTH, 'client proof does not match: the cluster secrets differ');
        }
        this.#enqueue(LinkFrameType.READY, 0, EMPTY);
        return true;
      }
      case 'ready':
        expectType(frame, LinkFrameType.READY);
        return true;
    }
  }

  #open(): void {
    this.#state = 'open';
    this.#peerNonce = null;
    if (this.#handshakeTimer !== null) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
    this.#parser.maxFrameBytes = this.#o.maxFrameBytes;
    this.#log = this.#log.child({ peerId: this.#peerNodeId });
    const now = performance.now();
    this.#lastReceivedAt = now;
    this.#lastSentAt = now;
    this.#armHeartbeat(this.#o.heartbeatMs);
    this.#handlers.up(this.#peerNodeId);
  }

  // ---- heartbeat ----

  #armHeartbeat(delayMs: number): void {
    this.#heartbeatDueAt = performance.now() + delayMs;
    this.#heartbeatTimer = setTimeout(this.#onHeartbeat, delayMs);
    this.#heartbeatTimer.unref();
  }

  readonly #onHeartbeat = (): void => {
    this.#heartbeatTimer = null;
    if (this.#state !== 'open') return;
    const now = performance.now();
    const heartbeatMs = this.#o.heartbeatMs;
    const deadAfterMs = 3 * heartbeatMs;
    // Timers run before I/O in each loop iteration. If this timer fires late, our own loop was
    // blocked, and what the peer sent meanwhile is still unread: do not judge the peer on that.
    // After such a stall the peer gets one more heartbeat period, and a PING to answer.
    const late = now - this.#heartbeatDueAt > heartbeatMs;
    if (late) {
      this.#lastReceivedAt = Math.max(this.#lastReceivedAt, now + heartbeatMs - deadAfterMs);
      this.#lastSentAt = -Infinity;
    }
    const silentMs = now - this.#lastReceivedAt;
    if (silentMs >= deadAfterMs) {
      this.#abort(
        new CodedError(ErrorCodes.LNK_ERR_CLOSED, `peer silent for ${Math.round(silentMs)} ms (heartbeat timeout, 3 × ${heartbeatMs} ms)`),
      );
      return;
    }
    if (now - this.#lastSentAt >= heartbeatMs) {
      this.#pingSeq = (this.#pingSeq + 1) >>> 0;
      this.#pingSentAt = now;
      try {
        this.#enqueue(LinkFrameType.PING, this.#pingSeq, EMPTY);
      } catch {
        // Queue full: the socket is not idle, the peer hears from us anyway.
      }
      // A PING is about to go out: the next look is one heartbeat from now at the latest.
      this.#lastSentAt = now;
    }
    const nextMs = Math.min(this.#lastSentAt + heartbeatMs, this.#lastReceivedAt + deadAfterMs) - now;
    this.#armHeartbeat(Math.max(1, Math.ceil(nextMs)));
  };

  // ---- closing ----

  /** Refuse the handshake: tell the peer why (it closes with `LNK_ERR_AUTH` too), then end. */
  #reject(reason: CodedError): void {
    this.#setReason(reason);
    this.#state = 'closing';
    this.#stopTimers();
    this.#flushNow();
    this.#socket.end(encodeLinkFrame(LinkFrameType.REJECT, 0, encodeReject(reason.message)));
    this.#destroyAfter(this.#o.closeTimeoutMs);
  }

  /** Drop the connection now, pending writes included. */
  #abort(reason: CodedError): void {
    if (this.#state === 'closed') return;
    this.#setReason(reason);
    this.#state = 'closing';
    this.#stopTimers();
    this.#dropBatch();
    this.#socket.destroy();
  }

  #destroyAfter(ms: number): void {
    if (this.#closeTimer !== null) return;
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), ms);
    this.#closeTimer.unref();
  }

  #stopTimers(): void {
    if (this.#handshakeTimer !== null) clearTimeout(this.#handshakeTimer);
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#handshakeTimer = null;
    this.#heartbeatTimer = null;
  }

  /** The first reason wins: a deliberate close (`null`) is not overwritten by the echoes it causes. */
  #setReason(reason: CodedError | null): void {
    if (this.#reason === undefined) this.#reason = reason;
  }

  readonly #onError = (err: Error): void => {
    // Over TLS, anything failing between the TCP connect and the end of the TLS handshake is
    // the TLS handshake failing (a server refusing our certificate resets the connection).
    if (this.#tls && this.#connected && (isTlsError(err) || !this.#secure)) {
      this.#setReason(new CodedError(ErrorCodes.LNK_ERR_TLS, `TLS with ${this.#peerNodeId || this.remoteAddress} failed: ${err.message}`, { cause: err }));
      return;
    }
    this.#setReason(
      this.#connected
      ? new CodedError(ErrorCodes.LNK_ERR_CLOSED, `link socket failed: ${err.message}`, { cause: err })
        : new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, `cannot connect: ${err.message}`, { cause: err }),
    );
  };

  readonly #onEnd = (): void => {
    // With TLS 1.3 a client's TLS handshake completes before the server has checked its
    // certificate; a server refusing it just closes, before its CHALLENGE.
    if (this.#state === 'handshake' && this.#tls && this.#role === 'client' && this.#step === 'challenge') {
      this.#setReason(new CodedError(ErrorCodes.LNK_ERR_TLS, "the server closed the connection before the link handshake: over TLS, most likely it refused this side's certificate (not signed by the cluster CA?)"));
      return;
    }
    this.#setReason(
      this.#state === 'handshake'
        ? new CodedError(ErrorCodes.LNK_ERR_AUTH, 'peer closed the connection during the handshake')
        : new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'peer closed the link'),
    );
  };

  readonly #onClose = (): void => {
    this.#state = 'closed';
    this.#stopTimers();
    this.#dropBatch();
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    this.#setReason(new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link socket closed'));
    const reason = this.#reason ?? null;
    if (reason === null) this.#log.debug('link closed');
    // A LinkClient logs its own attempts; on the server this is the only trace of a refused peer.
    else if (this.#role === 'server' && WARN_CODES.has(reason.code)) this.#log.warn({ err: reason, code: reason.code }, 'link dropped');
    else this.#log.debug({ err: reason, code: reason.code }, 'link closed');
    try {
      this.#handlers.close(reason);
    } finally {
      this.#resolveClosed();
    }
  };
}

function expectType(frame: LinkFrame, type: number): void {
  if (frame.type !== type) {
    throw new CodedError(ErrorCodes.LNK_ERR_AUTH, `expected ${HANDSHAKE_NAMES[type] ?? type} in the handshake, got frame type ${frame.type}`);
  }
}
