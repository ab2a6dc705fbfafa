import { CodedError, ErrorCodes } from '@gos/schema';
import { RingWriter, type RingStats } from './ring/index.js';

interface Pending {
  readonly type: number;
  readonly sid: number;
  readonly value: number;
  readonly payload: Uint8Array | null;
  readonly urgent: boolean;
}

/**
 * The sending side of a ring with a bounded overflow: records go straight into the ring while
 * it has room; when it is full they wait in order in a small queue that drains as the consumer
 * frees space. Nothing is dropped silently: past `maxPendingBytes` `send` throws
 * `ENG_ERR_QUEUE_FULL`, and a record the ring could never take `ENG_ERR_RECORD_TOO_LARGE`, whether
 * or not others wait; the caller decides (error to the client, kick, or crash the scene).
 */
export class Outbox {
  readonly #ring: RingWriter;
  readonly #maxPendingBytes: number;
  readonly #pending: Pending[] = [];
  #pendingBytes = 0;
  #draining = false;
  #closed = false;

  /**
   * @param flushVia when writes are published (see RingWriterOptions.autoFlushVia): `immediate`
   *   gathers the writes of every I/O callback of one event-loop turn into one publication.
   * @param nonUrgent how records sent with `urgent` false are published (RingWriterOptions.nonUrgent).
   */
  constructor(sab: SharedArrayBuffer, maxPendingBytes: number, flushVia: 'microtask' | 'immediate' = 'microtask', nonUrgent: 'batched' | 'at-once' = 'batched') {
    this.#ring = new RingWriter(sab, { autoFlush: true, autoFlushVia: flushVia, nonUrgent });
    this.#maxPendingBytes = maxPendingBytes;
  }

  /** The largest payload one record can carry. */
  get maxPayloadBytes(): number {
    return this.#ring.maxPayloadBytes;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Bytes the consumer has not freed yet: in the ring (published or not) and in the overflow. */
  get usedBytes(): number {
    return this.#ring.capacityBytes - this.#ring.freeBytes() + this.#pendingBytes;
  }

  /**
   * Queue one record. `urgent` (default true) says whether it must wake a consumer that sleeps
   * for urgent records only (see RingWriter.tryWrite).
   */
  send(type: number, sid: number, value: number, payload: Uint8Array | null, urgent = true): void {
    if (this.#closed) return;
    // Order matters: once anything waits in the overflow, later records queue behind it. (Its
    // byte count, not the array's length: no other object to read on a client frame's path.)
    if (this.#pendingBytes === 0 && this.#ring.tryWrite(type, sid, value, payload, urgent)) return;
    // Refused now, as tryWrite refuses it: a record the ring can never take, queued, would stop
    // the overflow for good (and its drain would reject with no one to catch it).
    this.#ring.checkRecord(type, payload?.byteLength ?? 0);
    const size = (payload?.byteLength ?? 0) + 16;
    if (this.#pendingBytes + size > this.#maxPendingBytes) {
      throw new CodedError(ErrorCodes.ENG_ERR_QUEUE_FULL, `ring overflow is full (${this.#pendingBytes} bytes waiting)`);
    }
    // The payload may be a view into a reused buffer: keep a copy while it waits.
    this.#pending.push({ type, sid, value, payload: payload === null ? null : payload.slice(), urgent });
    this.#pendingBytes += size;
    if (!this.#draining) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.length > 0 && !this.#closed) {
        const head = this.#pending[0]!;
        if (this.#ring.tryWrite(head.type, head.sid, head.value, head.payload, head.urgent)) {
          this.#pending.shift();
          this.#pendingBytes -= (head.payload?.byteLength ?? 0) + 16;
          continue;
        }
        this.#ring.flush();
        await this.#ring.waitForSpace((head.payload?.byteLength ?? 0) + 16, 50);
      }
    } finally {
      this.#draining = false;
    }
  }

  flush(): void {
    this.#ring.flush();
  }

  /** The ring's counters (with this side's own, see RingWriter.stats). */
  stats(): RingStats {
    return this.#ring.stats();
  }

  close(): void {
    this.#closed = true;
    this.#pending.length = 0;
    this.#pendingBytes = 0;
  }
}
