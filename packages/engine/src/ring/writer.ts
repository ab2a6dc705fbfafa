import { CodedError, ErrorCodes } from '@gos/schema';
import { attachRing, checkTimeout, keepAlive, readCounter, readStats, writeCounter, type RingStats, type RingViews } from './buffer.js';
import {
  MAX_RECORD_TYPE,
  PAD_MARKER,
  RECORD_ALIGN,
  RECORD_HEADER_BYTES,
  REC_SID,
  REC_VALUE,
  REC_LENGTH,
  REC_TYPE,
  WAKE_ANY,
  kConsumerWaiting,
  kHead,
  kProducerWaiting,
  kStatConsumerWakeups,
  kStatFull,
  kStatWrittenBytes,
  kStatWrittenRecords,
  kTail,
  maxRecordBytes,
  recordBytes,
} from './layout.js';

/** Options of a {@link RingWriter}. All optional; the object is validated, copied and frozen. */
export interface RingWriterOptions {
  /**
   * Flush automatically once per event-loop turn after a write, so callers never call `flush()`.
   * Records written in the same turn share one publication and at most one wake-up.
   * @default false
   */
  readonly autoFlush?: boolean;
  /**
   * When the automatic flush runs: `'microtask'` as soon as the current synchronous run ends
   * (lowest latency), or `'immediate'` after this turn's I/O callbacks (bigger batches when
   * several callbacks write in one turn).
   * @default 'microtask'
   */
  readonly autoFlushVia?: 'microtask' | 'immediate';
  /**
   * What happens to a record written with `urgent` false. `'batched'`: like any record, it waits
   * for the next flush. `'at-once'`: when no urgent record waits unpublished and the consumer
   * does not sleep for any record ({@link WAKE_ANY}), it is published by `tryWrite` itself (one
   * `Atomics.store`), with no flush scheduled: it wakes nobody, so there is nothing to batch. A
   * scene that drains its inputs at its tick takes a client's input this way without a task per
   * event-loop turn. The shared written-record counters (`readStats`) then lag until the next
   * flush; the writer's own {@link RingWriter.stats} do not.
   * @default 'batched'
   */
  readonly nonUrgent?: 'batched' | 'at-once';
  /**
   * Keep the event loop alive while `waitForSpace` is pending. A bare `Atomics.waitAsync`
   * does not (Node 20), so a thread whose only pending work is the wait would exit.
   * @default true
   */
  readonly keepAlive?: boolean;
}

type ResolvedWriterOptions = Readonly<Required<RingWriterOptions>>;

function invalid(option: string, why: string): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, `${option} ${why}`);
}

function resolveOptions(options: RingWriterOptions): ResolvedWriterOptions {
  if (options === null || typeof options !== 'object') throw invalid('options', 'must be an object');
  const { autoFlush = false, autoFlushVia = 'microtask', nonUrgent = 'batched', keepAlive: keep = true } = options;
  if (typeof autoFlush !== 'boolean') throw invalid('autoFlush', `must be a boolean, got ${String(autoFlush)}`);
  if (autoFlushVia !== 'microtask' && autoFlushVia !== 'immediate') {
    throw invalid('autoFlushVia', `must be 'microtask' or 'immediate', got ${String(autoFlushVia)}`);
  }
  if (nonUrgent !== 'batched' && nonUrgent !== 'at-once') throw invalid('nonUrgent', `must be 'batched' or 'at-once', got ${String(nonUrgent)}`);
  if (typeof keep !== 'boolean') throw invalid('keepAlive', `must be a boolean, got ${String(keep)}`);
  return Object.freeze({ autoFlush, autoFlushVia, nonUrgent, keepAlive: keep });
}

/**
 * The producer side of a ring: the only writer of its buffer (single producer). Records are
 * copied into the ring by `tryWrite`/`write` and become visible to the consumer at the next
 * `flush()` (explicit, automatic with `autoFlush`, or implied when the ring is full or
 * `waitForSpace` is called). A flush publishes everything written since the last one with one
 * `Atomics.store` and wakes the consumer with one `Atomics.notify`, and only if it sleeps.
 * With `nonUrgent: 'at-once'`, a record that would wake nobody is published as it is written.
 *
 * Attaching to a buffer resumes from its published tail: records written but not flushed by a
 * previous writer are lost with it.
 */
export class RingWriter {
  readonly #v: RingViews;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;
  readonly #u8: Uint8Array;
  readonly #capacity: number;
  readonly #mask: number;
  readonly #maxRecord: number;
  readonly #maxPayload: number;
  readonly #options: ResolvedWriterOptions;
  /** `nonUrgent: 'at-once'`. */
  readonly #publishQuiet: boolean;
  /** Where the next record goes; ahead of `#published` until the next flush. */
  #tail: number;
  /** The last value stored into `kTail`. */
  #published: number;
  /** The consumer's head as last loaded: never ahead of the real one, so free space is never overestimated. */
  #head: number;
  #records: number;
  #bytes: number;
  #full: number;
  #wakeups: number;
  #flushScheduled = false;
  /** An urgent record was written since the last flush: the flush wakes a consumer that waits for urgent ones only. */
  #urgent = false;
  /** `waitForSpace` calls in progress; the waiting flag is cleared when the last one ends. */
  #spaceWaiters = 0;
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };

  /**
   * @param sab a buffer made by `createRing` (or one half of `createRingPair`).
   * @throws CodedError `OPT_ERR_INVALID` naming `sab` or the bad option.
   */
  constructor(sab: SharedArrayBuffer, options: RingWriterOptions = {}) {
    this.#options = resolveOptions(options);
    this.#publishQuiet = this.#options.nonUrgent === 'at-once';
    const v = attachRing(sab);
    this.#v = v;
    this.#i32 = v.i32;
    this.#u32 = v.u32;
    this.#u8 = v.u8;
    this.#capacity = v.capacity;
    this.#mask = v.capacity - 1;
    this.#maxRecord = maxRecordBytes(v.capacity);
    this.#maxPayload = this.#maxRecord - RECORD_HEADER_BYTES;
    // Atomics.load: resume from what the consumer can see, and from the space it has freed.
    this.#tail = this.#published = Atomics.load(v.i32, kTail) >>> 0;
    this.#head = Atomics.load(v.i32, kHead) >>> 0;
    this.#records = readCounter(v, kStatWrittenRecords);
    this.#bytes = readCounter(v, kStatWrittenBytes);
    this.#full = readCounter(v, kStatFull);
    this.#wakeups = readCounter(v, kStatConsumerWakeups);
  }

  /** Bytes of the data region. */
  get capacityBytes(): number {
    return this.#capacity;
  }

  /** The largest payload one record can carry: `capacityBytes / 2 - 16`. */
  get maxPayloadBytes(): number {
    return this.#maxPayload;
  }

  /** Bytes written but not yet published by a flush. */
  get unflushedBytes(): number {
    return (this.#tail - this.#published) >>> 0;
  }

  /**
   * Append one record, or do nothing and return false when it does not fit right now (no
   * partial write). A refusal flushes what is pending, so that the consumer can free space.
   * The payload is copied; the caller may reuse its buffer as soon as this returns.
   * @param type message kind, an integer 0–255.
   * @param sid first argument, stored as u32 (ToUint32: -1 reads back as 4294967295).
   * @param value second argument, stored as u32.
   * @param urgent whether the flush that publishes it wakes a consumer that sleeps for urgent
   *   records only (`waitAsync(…, 'urgent')`); a consumer that sleeps for any record is woken
   *   either way. @default true
   * @throws CodedError `ENG_ERR_RECORD_TOO_LARGE` when the payload exceeds `maxPayloadBytes`
   *   (it would never fit, however long one waited).
   * @throws RangeError when `type` is not an integer 0–255.
   */
  tryWrite(type: number, sid: number, value: number, payload: Uint8Array | null, urgent = true): boolean {
    const length = payload === null ? 0 : payload.byteLength;
    this.checkRecord(type, length);
    const size = recordBytes(length);
    const capacity = this.#capacity;
    let tail = this.#tail;
    let offset = tail & this.#mask;
    const toEnd = capacity - offset;
    // A record that does not fit before the end also consumes the rest of the region as padding.
    const need = size <= toEnd ? size : toEnd + size;
    if (capacity - ((tail - this.#head) >>> 0) < need) {
      // Atomics.load pairs with the consumer's Atomics.store(kHead): its reads of every byte
      // before the head we see happened before, so overwriting those bytes cannot race them.
      this.#head = Atomics.load(this.#i32, kHead) >>> 0;
      if (capacity - ((tail - this.#head) >>> 0) < need) {
        this.#full++;
        writeCounter(this.#v, kStatFull, this.#full);
        // Records the consumer cannot see are records it cannot free: publish them now, and wake
        // it even if it sleeps for urgent records only (a full ring is urgent).
        this.#urgent = true;
        this.flush();
        return false;
      }
    }
    const u32 = this.#u32;
    if (size > toEnd) {
      u32[offset >>> 2] = PAD_MARKER;
      tail = (tail + toEnd) >>> 0;
      offset = 0;
    }
    // Plain (non-atomic) writes: no one reads these bytes until the kTail store in flush().
    const w = offset >>> 2;
    u32[w + REC_LENGTH] = length;
    u32[w + REC_TYPE] = type;
    u32[w + REC_SID] = sid;
    u32[w + REC_VALUE] = value;
    if (payload !== null && length > 0) this.#u8.set(payload, offset + RECORD_HEADER_BYTES);
    tail = (tail + size) >>> 0;
    this.#tail = tail;
    this.#records++;
    this.#bytes += length;
    if (urgent) {
      this.#urgent = true;
    } else if (this.#publishQuiet && !this.#urgent && Atomics.load(this.#i32, kConsumerWaiting) !== WAKE_ANY) {
      // Nobody to wake (nonUrgent 'at-once'): published now, with the records before it, all of
      // them quiet. Then the handshake of flush(): a consumer that began to sleep for any record
      // since the load above stored its flag before loading kTail, so either it sees this store
      // or we see its flag here and wake it.
      Atomics.store(this.#i32, kTail, tail | 0);
      this.#published = tail;
      this.#wake(false);
      return true;
    }
    if (this.#options.autoFlush && !this.#flushScheduled) this.#scheduleFlush();
    return true;
  }

  /**
   * The checks {@link tryWrite} makes (through this) before it looks for room: a record that no
   * wait would let in. For a caller that queues records to write later (Outbox): refused when
   * queued, not when their turn comes.
   * @throws CodedError `ENG_ERR_RECORD_TOO_LARGE` when the payload exceeds `maxPayloadBytes`.
   * @throws RangeError when `type` is not an integer 0–255.
   */
  checkRecord(type: number, payloadBytes: number): void {
    if ((type & MAX_RECORD_TYPE) !== type) throw new RangeError(`record type must be an integer 0-${MAX_RECORD_TYPE}, got ${String(type)}`);
    if (payloadBytes > this.#maxPayload) throw this.#tooLarge(payloadBytes);
  }

  /**
   * Like {@link tryWrite} but a full ring is an error.
   * @throws CodedError `ENG_ERR_QUEUE_FULL` when the record does not fit now (nothing was written).
   * @throws CodedError `ENG_ERR_RECORD_TOO_LARGE` when it never could.
   */
  write(type: number, sid: number, value: number, payload: Uint8Array | null, urgent = true): void {
    if (!this.tryWrite(type, sid, value, payload, urgent)) {
      const size = recordBytes(payload === null ? 0 : payload.byteLength);
      throw new CodedError(ErrorCodes.ENG_ERR_QUEUE_FULL, `ring is full: a ${size}-byte record does not fit in ${this.freeBytes()} free bytes of ${this.#capacity}`);
    }
  }

  /**
   * Publish every record written since the last flush and wake the consumer if it sleeps (for
   * any record, or for urgent ones and one of them is in this batch). Cheap when there is
   * nothing to publish; at most one `Atomics.notify` per call, and none when the consumer is
   * busy draining.
   */
  flush(): void {
    if (this.#tail === this.#published) {
      // Nothing to publish. An urgent flush with nothing new (a full ring whose records went out
      // as they were written, `nonUrgent: 'at-once'`) still wakes a sleeping consumer: it is the
      // one that can free space.
      if (this.#urgent) {
        this.#urgent = false;
        this.#wake(true);
      }
      return;
    }
    const urgent = this.#urgent;
    this.#urgent = false;
    // Atomics.store (seq-cst) publishes the batch: every plain write of the records above
    // happens-before any consumer Atomics.load(kTail) that reads this value, so the consumer
    // never reads a half-written record. One store per batch, not per record: fewer fences and
    // one cache-line transfer to the consumer's core for the whole batch.
    Atomics.store(this.#i32, kTail, this.#tail | 0);
    this.#published = this.#tail;
    // Load the flag *after* the tail store. The consumer stores the flag, then loads kTail
    // (both seq-cst, a Dekker handshake): either it set the flag before our store and we see
    // it here, or its load comes after our store, sees the new tail, and it does not sleep.
    // Either way no wake-up is lost, and a busy consumer costs us no notify. A consumer asleep
    // for urgent records only is left asleep by a batch without one: it drains those records
    // when it wakes for its own reasons, or at the next urgent flush, which finds the flag set.
    this.#wake(urgent);
    writeCounter(this.#v, kStatWrittenRecords, this.#records);
    writeCounter(this.#v, kStatWrittenBytes, this.#bytes);
  }

  /**
   * Bytes not used by published or pending records. A record needs `recordBytes(payload)` of
   * them, plus the bytes left before the end of the region when it has to wrap: use
   * {@link canWrite} to ask about one record.
   */
  freeBytes(): number {
    // Atomics.load: a fresh view of the space the consumer has released.
    this.#head = Atomics.load(this.#i32, kHead) >>> 0;
    return this.#capacity - ((this.#tail - this.#head) >>> 0);
  }

  /** Whether `tryWrite` with a payload of `payloadBytes` would succeed now. */
  canWrite(payloadBytes: number): boolean {
    if (!(payloadBytes >= 0 && payloadBytes <= this.#maxPayload)) return false;
    this.#head = Atomics.load(this.#i32, kHead) >>> 0;
    return this.#fits(recordBytes(payloadBytes));
  }

  /**
   * Flush, then wait until a record of `bytes` bytes (header included: `16 + payload length`)
   * fits, using the consumer's notification when it frees space. Resolves true when it fits,
   * false on timeout. Never blocks the thread (`Atomics.waitAsync`).
   * @param timeoutMs give up after this long. @default Infinity
   * @throws CodedError `ENG_ERR_RECORD_TOO_LARGE` (as a rejection) when `bytes` exceeds half
   *   the capacity: such a record could never fit.
   */
  async waitForSpace(bytes: number, timeoutMs: number = Infinity): Promise<boolean> {
    checkTimeout('timeoutMs', timeoutMs);
    if (!(bytes <= this.#maxRecord)) throw this.#tooLarge(bytes - RECORD_HEADER_BYTES);
    const size = Math.max(RECORD_HEADER_BYTES, (bytes + RECORD_ALIGN - 1) & ~(RECORD_ALIGN - 1));
    // The consumer frees space only for records it can see, and only when awake.
    this.#urgent = true;
    this.flush();
    const i32 = this.#i32;
    const deadline = performance.now() + timeoutMs;
    this.#spaceWaiters++;
    try {
      for (;;) {
        // Announce the sleep *before* loading kHead (seq-cst store then load). The consumer
        // stores kHead then loads this flag: at least one of us sees the other's store, so
        // either we see the freed space now or it notifies us. No lost wake-up.
        Atomics.store(i32, kProducerWaiting, 1);
        const head = Atomics.load(i32, kHead);
        this.#head = head >>> 0;
        if (this.#fits(size)) return true;
        const remainingMs = deadline - performance.now();
        if (remainingMs <= 0) return false;
        // waitAsync compares kHead with `head` atomically with respect to notify: a head store
        // after our load makes it return 'not-equal' at once instead of sleeping through it.
        const wait = Atomics.waitAsync(i32, kHead, head, remainingMs);
        if (wait.async) await (this.#options.keepAlive ? keepAlive(wait.value, remainingMs) : wait.value);
      }
    } finally {
      // Not waiting any more: spare the consumer a notify (unless another waiter still is).
      if (--this.#spaceWaiters === 0) Atomics.store(i32, kProducerWaiting, 0);
    }
  }

  /** Counters, with this writer's own up to the last record (not only the last flush). */
  stats(): RingStats {
    return {
      ...readStats(this.#v),
      writtenRecords: this.#records,
      writtenBytes: this.#bytes,
      fullCount: this.#full,
      consumerWakeups: this.#wakeups,
    };
  }

  /** Whether a record of `size` bytes (aligned) fits given the cached head. */
  #fits(size: number): boolean {
    const toEnd = this.#capacity - (this.#tail & this.#mask);
    const need = size <= toEnd ? size : toEnd + size;
    return this.#capacity - ((this.#tail - this.#head) >>> 0) >= need;
  }

  /**
   * After a store of kTail: wake the consumer if it sleeps for any record, or for urgent ones
   * and `urgent`. exchange rather than store: the call that clears the flag is the only one that
   * notifies, so further publications before the sleeper runs do not notify again.
   */
  #wake(urgent: boolean): void {
    const i32 = this.#i32;
    const waiting = Atomics.load(i32, kConsumerWaiting);
    if (waiting === 0 || (!urgent && waiting !== WAKE_ANY) || Atomics.exchange(i32, kConsumerWaiting, 0) === 0) return;
    Atomics.notify(i32, kTail);
    this.#wakeups++;
    writeCounter(this.#v, kStatConsumerWakeups, this.#wakeups);
  }

  #scheduleFlush(): void {
    this.#flushScheduled = true;
    if (this.#options.autoFlushVia === 'microtask') queueMicrotask(this.#flushTask);
    else setImmediate(this.#flushTask);
  }

  #tooLarge(payloadBytes: number): CodedError {
    return new CodedError(
      ErrorCodes.ENG_ERR_RECORD_TOO_LARGE,
      `ring record payload of ${payloadBytes} bytes exceeds the maximum of ${this.#maxPayload} (half the ${this.#capacity}-byte ring, less the ${RECORD_HEADER_BYTES}-byte header)`,
    );
  }
}
