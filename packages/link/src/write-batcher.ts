import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { CodedError, ErrorCodes } from '@gos/schema';
import { LINK_FRAME_HEADER_BYTES, writeFrameHeader } from './frame.js';
import type { Heartbeat } from './heartbeat.js';
import type { ResolvedLinkOptions } from './options.js';
import type { LinkCounters } from './stats.js';

/** First batch buffer size: small batches come from Node's shared allocation pool (< 4 KiB). */
const MIN_BATCH_BYTES = 2048;

/**
 * The outgoing side of a link connection: this turn's frames, packed back to back and written
 * with one `socket.write`; each frame bounded by `maxFrameBytes`, the batch plus the socket's
 * buffer by `maxQueuedBytes`.
 *
 * A frame may be sent with a time it can wait until (`holdUntil`): while the batch holds only
 * such frames it is written when the earliest of those times comes, not at the end of the turn.
 * Any frame sent without one writes the whole batch at the end of its turn, the held frames
 * first: order is never changed, and nothing waits longer than its sender allowed.
 */
export class WriteBatcher {
  readonly #socket: Socket;
  readonly #maxFrameBytes: number;
  readonly #maxQueuedBytes: number;
  readonly #counters: LinkCounters;
  /** Told of every write, so it PINGs only an idle socket. */
  readonly #heartbeat: Heartbeat;
  /** Names the peer in a queue-full error; called only then. */
  readonly #describePeer: () => string;

  #batch: Buffer | null = null;
  #batchBytes = 0;
  #batchFrames = 0;
  #flushImmediate: NodeJS.Immediate | null = null;
  /** When the batch must be written, if it holds only frames that may wait (performance.now() ms); Infinity otherwise. */
  #holdUntil = Infinity;
  #holdTimer: NodeJS.Timeout | null = null;

  constructor(socket: Socket, options: ResolvedLinkOptions, counters: LinkCounters, heartbeat: Heartbeat, describePeer: () => string) {
    this.#socket = socket;
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#maxQueuedBytes = options.maxQueuedBytes;
    this.#counters = counters;
    this.#heartbeat = heartbeat;
    this.#describePeer = describePeer;
  }

  /** Bytes waiting to be written: the current batch plus the socket's buffer (0 when closed). */
  get queuedBytes(): number {
    return this.#batchBytes + (this.#socket.destroyed ? 0 : this.#socket.writableLength);
  }

  /**
   * Append one frame to the batch, the body copied. Type and channel are the caller's to check.
   * @param holdUntil when the frame may be written as late as (performance.now() ms); without
   *   it, at the end of this turn.
   * @throws CodedError `LNK_ERR_FRAME_TOO_LARGE`, `LNK_ERR_QUEUE_FULL`; nothing is queued then.
   */
  enqueue(type: number, channel: number, body: Uint8Array, holdUntil?: number): void {
    const frameBytes = LINK_FRAME_HEADER_BYTES + body.byteLength;
    if (frameBytes > this.#maxFrameBytes) {
      throw new CodedError(
        ErrorCodes.LNK_ERR_FRAME_TOO_LARGE,
        `link frame of ${frameBytes} bytes exceeds maxFrameBytes ${this.#maxFrameBytes}`,
      );
    }
    const queued = this.#socket.writableLength + this.#batchBytes;
    if (queued + frameBytes > this.#maxQueuedBytes) {
      throw new CodedError(
        ErrorCodes.LNK_ERR_QUEUE_FULL,
        `${queued} bytes already queued to ${this.#describePeer()}; maxQueuedBytes is ${this.#maxQueuedBytes}`,
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
    if (holdUntil === undefined) this.#flushImmediate ??= setImmediate(this.#onImmediate);
    else if (this.#flushImmediate === null && holdUntil < this.#holdUntil) this.#holdTo(holdUntil);
  }

  /** Write the batch at `until` at the latest (one timer for the batch, moved only earlier). */
  #holdTo(until: number): void {
    if (this.#holdTimer !== null) clearTimeout(this.#holdTimer);
    this.#holdUntil = until;
    this.#holdTimer = setTimeout(this.#onHoldTimer, Math.max(0, until - performance.now()));
  }

  #stopHold(): void {
    if (this.#holdTimer !== null) clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
    this.#holdUntil = Infinity;
  }

  /** Write the batch now (before ending the socket); counted even if the socket is gone. */
  flush(): void {
    if (this.#flushImmediate !== null) {
      clearImmediate(this.#flushImmediate);
      this.#flushImmediate = null;
    }
    if (this.#holdUntil !== Infinity) this.#stopHold();
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
    this.#heartbeat.sent(performance.now());
    this.#socket.write(data);
  }

  /** Forget the batch unwritten: the socket is being destroyed. */
  drop(): void {
    if (this.#flushImmediate !== null) clearImmediate(this.#flushImmediate);
    this.#flushImmediate = null;
    this.#stopHold();
    this.#batch = null;
    this.#batchBytes = 0;
    this.#batchFrames = 0;
  }

  #reserve(frameBytes: number): Buffer {
    const needed = this.#batchBytes + frameBytes;
    const current = this.#batch;
    if (current !== null && needed <= current.length) return current;
    // Doubling keeps appends amortised O(1); never more than the queue bound (plus one frame).
    const capacity = Math.max(needed, Math.min(Math.max(MIN_BATCH_BYTES, (current?.length ?? 0) * 2), this.#maxQueuedBytes));
    const next = Buffer.allocUnsafe(capacity);
    if (current !== null) current.copy(next, 0, 0, this.#batchBytes);
    this.#batch = next;
    return next;
  }

  readonly #onImmediate = (): void => {
    this.#flushImmediate = null;
    this.flush();
  };

  readonly #onHoldTimer = (): void => {
    this.#holdTimer = null;
    this.flush();
  };
}
