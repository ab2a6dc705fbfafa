import { CodedError, ErrorCodes } from '@gos/schema';
import { attachRing, checkTimeout, keepAlive, readCounter, readStats, writeCounter, type RingStats, type RingViews } from './buffer.js';
import {
  PAD_MARKER,
  RECORD_HEADER_BYTES,
  WAKE_ANY,
  WAKE_URGENT,
  REC_SID,
  REC_VALUE,
  REC_LENGTH,
  REC_TYPE,
  kConsumerWaiting,
  kHead,
  kProducerWaiting,
  kStatProducerWakeups,
  kStatReadBytes,
  kStatReadRecords,
  kTail,
  maxRecordBytes,
  recordBytes,
} from './layout.js';

/**
 * Called once per record by {@link RingReader.drain}.
 *
 * `payload` is a view into the shared ring, valid only until the handler returns: after the
 * batch the producer may overwrite those bytes. Decode it inside the handler, or keep a copy
 * (`payload.slice()`); never keep the view itself or hand it to anything asynchronous.
 *
 * Returning `false` (exactly) refuses the record: it stays in the ring, the drain stops, and the
 * next drain delivers it again. Use it for back-pressure (say, when the reply would not fit),
 * and wait for whatever you lacked before draining again: `waitAsync` returns 'not-equal' at
 * once while a refused record is waiting.
 * Any other return value consumes the record. A handler that throws consumes its record too
 * (so one bad record cannot wedge the ring); the error propagates out of `drain`.
 */
export type RecordHandler = (type: number, sid: number, value: number, payload: Uint8Array) => void | boolean;

/** What `Atomics.waitAsync` reports, with 'not-equal' meaning "records were already there". */
export type RingWaitResult = 'ok' | 'timed-out' | 'not-equal';

/** Options of a {@link RingReader}. All optional; the object is validated, copied and frozen. */
export interface RingReaderOptions {
  /**
   * Keep the event loop alive while `waitAsync` is pending. A bare `Atomics.waitAsync` does
   * not (Node 20): a worker whose only pending work is the wait would exit.
   * @default true
   */
  readonly keepAlive?: boolean;
}

/** Options of {@link RingReader.startReadLoop}. */
export interface ReadLoopOptions {
  /** Stops the loop; an abort wakes a sleeping loop at once. Unread records stay in the ring. */
  readonly signal?: AbortSignal;
  /** Records per drain before yielding to the event loop. @default Infinity (all that are visible) */
  readonly maxBatch?: number;
  /**
   * How long one sleep lasts when the ring is empty before the loop checks again. Only a safety
   * net: a flush wakes the loop at once. @default 1000
   */
  readonly idleTimeoutMs?: number;
}

const EMPTY = new Uint8Array(0);

function invalid(option: string, why: string): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, `${option} ${why}`);
}

/** Let timers and I/O callbacks run between batches. */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * The consumer side of a ring: the only reader of its buffer (single consumer). `drain` hands
 * every visible record to a handler and releases their space with one `Atomics.store` per
 * batch; `waitAsync` sleeps until the producer's next flush without blocking the thread.
 */
export class RingReader {
  readonly #v: RingViews;
  readonly #i32: Int32Array;
  readonly #u32: Uint32Array;
  readonly #u8: Uint8Array;
  readonly #capacity: number;
  readonly #mask: number;
  readonly #maxPayload: number;
  readonly #keepAlive: boolean;
  /** Our position; equal to `kHead` except inside a drain. */
  #head: number;
  #records: number;
  #bytes: number;
  #wakeups: number;
  #draining = false;
  /** The last drain stopped on a refused record (so the ring is not empty). */
  #refused = false;
  /** `waitAsync` calls in progress; the waiting flag is cleared when the last one ends. */
  #sleepers = 0;
  #looping = false;

  /**
   * @param sab a buffer made by `createRing` (or one half of `createRingPair`).
   * @throws CodedError `OPT_ERR_INVALID` naming `sab` or the bad option.
   */
  constructor(sab: SharedArrayBuffer, options: RingReaderOptions = {}) {
    if (options === null || typeof options !== 'object') throw invalid('options', 'must be an object');
    const { keepAlive: keep = true } = options;
    if (typeof keep !== 'boolean') throw invalid('keepAlive', `must be a boolean, got ${String(keep)}`);
    this.#keepAlive = keep;
    const v = attachRing(sab);
    this.#v = v;
    this.#i32 = v.i32;
    this.#u32 = v.u32;
    this.#u8 = v.u8;
    this.#capacity = v.capacity;
    this.#mask = v.capacity - 1;
    this.#maxPayload = maxRecordBytes(v.capacity) - RECORD_HEADER_BYTES;
    // Resume where the previous consumer (if any) released.
    this.#head = Atomics.load(v.i32, kHead) >>> 0;
    this.#records = readCounter(v, kStatReadRecords);
    this.#bytes = readCounter(v, kStatReadBytes);
    this.#wakeups = readCounter(v, kStatProducerWakeups);
  }

  /** Bytes of the data region. */
  get capacityBytes(): number {
    return this.#capacity;
  }

  /** Bytes published by the producer and not yet drained (records, headers and padding). */
  availableBytes(): number {
    // Atomics.load: see the producer's latest flush.
    return ((Atomics.load(this.#i32, kTail) >>> 0) - this.#head) >>> 0;
  }

  /**
   * Deliver the records published so far, in order, to `handler` (see {@link RecordHandler} for
   * the payload's lifetime and for refusing a record), then release their space with one
   * `Atomics.store` and, if the producer waits for space, one `Atomics.notify`.
   * Records flushed while the handler runs are left for the next drain.
   * @param max stop after this many records. @default Infinity
   * @returns the number of records consumed.
   * @throws whatever the handler throws (its record counts as consumed); Error when called
   *   from inside its own handler, or when the ring's contents are corrupt.
   */
  drain(handler: RecordHandler, max: number = Infinity): number {
    if (this.#draining) throw new Error('RingReader.drain called from inside its own handler');
    // Atomics.load pairs with the producer's Atomics.store(kTail) in flush(): every record before
    // `tail` was completely written before that store, so our plain reads below see it whole.
    const tail = Atomics.load(this.#i32, kTail) >>> 0;
    const start = this.#head;
    this.#refused = false;
    if (tail === start) return 0;
    const u32 = this.#u32;
    const u8 = this.#u8;
    const capacity = this.#capacity;
    const mask = this.#mask;
    let head = start;
    let count = 0;
    let bytes = 0;
    this.#draining = true;
    try {
      while (head !== tail && count < max) {
        const offset = head & mask;
        const w = offset >>> 2;
        const length = u32[w + REC_LENGTH]!;
        if (length === PAD_MARKER) {
          head = (head + capacity - offset) >>> 0;
          continue;
        }
        const size = recordBytes(length);
        if (length > this.#maxPayload || size > ((tail - head) >>> 0)) {
          throw new Error(`ring corrupt: record of length ${length} at offset ${offset} with ${(tail - head) >>> 0} bytes published`);
        }
        const payloadStart = offset + RECORD_HEADER_BYTES;
        const payload = length === 0 ? EMPTY : u8.subarray(payloadStart, payloadStart + length);
        // Advance before calling: if the handler throws, its record is consumed.
        const before = head;
        head = (head + size) >>> 0;
        count++;
        bytes += length;
        if (handler(u32[w + REC_TYPE]!, u32[w + REC_SID]!, u32[w + REC_VALUE]!, payload) === false) {
          head = before;
          count--;
          bytes -= length;
          this.#refused = true;
          break;
        }
      }
    } finally {
      this.#draining = false;
      if (head !== start) this.#release(head, count, bytes);
    }
    return count;
  }

  /**
   * Sleep until the producer flushes, without blocking the thread (`Atomics.waitAsync`; the
   * blocking `Atomics.wait` would stop this thread's timers and I/O). Resolves 'not-equal' at
   * once when records are already waiting (including a record the last drain refused), 'ok'
   * when woken by a flush, 'timed-out' after `timeoutMs`. One sleeper at a time is the normal
   * case; concurrent calls work but each is woken by the same single notify.
   *
   * With `wakeFor: 'urgent'` only a flush that publishes an urgent record (see
   * `RingWriter.tryWrite`) or finds the ring full wakes the sleep; other records wait in the
   * ring, and the caller drains them when it wakes for its own reasons (a timer). Records
   * already waiting when the call starts still return 'not-equal' at once.
   * @param timeoutMs @default Infinity
   * @param wakeFor @default 'any'
   */
  async waitAsync(timeoutMs: number = Infinity, wakeFor: 'any' | 'urgent' = 'any'): Promise<RingWaitResult> {
    checkTimeout('timeoutMs', timeoutMs);
    if (wakeFor !== 'any' && wakeFor !== 'urgent') throw invalid('wakeFor', `must be 'any' or 'urgent', got ${String(wakeFor)}`);
    const i32 = this.#i32;
    this.#sleepers++;
    try {
      // Announce the sleep *before* loading kTail (seq-cst store then load). The producer stores
      // kTail then loads this flag: at least one of us sees the other's store, so either we see
      // its records now or its flush notifies us (when it wakes this kind of sleep). No lost wake-up.
      Atomics.store(i32, kConsumerWaiting, wakeFor === 'any' ? WAKE_ANY : WAKE_URGENT);
      const tail = Atomics.load(i32, kTail);
      if (tail >>> 0 !== this.#head) return 'not-equal';
      // waitAsync compares kTail with `tail` atomically with respect to notify: a flush between
      // our load and this call makes it return 'not-equal' at once instead of sleeping through it.
      const wait = Atomics.waitAsync(i32, kTail, tail, timeoutMs);
      if (!wait.async) return wait.value;
      return await (this.#keepAlive ? keepAlive(wait.value, timeoutMs) : wait.value);
    } finally {
      // Awake: spare the producer a notify (unless another sleeper still waits).
      if (--this.#sleepers === 0) Atomics.store(i32, kConsumerWaiting, 0);
    }
  }

  /**
   * End this reader's own sleep in {@link waitAsync} at once (it resolves 'ok'), for a reason of
   * the consumer's own (a scene stopping at its tick boundary). Only this reader waits on its
   * ring's tail (single consumer), so nobody else is woken.
   */
  wake(): void {
    Atomics.notify(this.#i32, kTail);
  }

  /**
   * Drain and sleep in a loop until `signal` aborts: drain a batch, yield to the event loop
   * (`setImmediate`) so timers and I/O run, repeat; sleep in `waitAsync` when the ring is
   * empty. When the handler refuses a record the loop yields and offers it again.
   * @returns the number of records consumed, once the signal has aborted.
   * @throws (as a rejection) what the handler throws, which ends the loop; Error when a loop
   *   is already running on this reader; CodedError `OPT_ERR_INVALID` naming a bad option.
   */
  async startReadLoop(handler: RecordHandler, options: ReadLoopOptions = {}): Promise<number> {
    if (options === null || typeof options !== 'object') throw invalid('options', 'must be an object');
    const { signal, maxBatch = Infinity, idleTimeoutMs = 1000 } = options;
    if (!(maxBatch >= 1)) throw invalid('maxBatch', `must be >= 1 (Infinity allowed), got ${String(maxBatch)}`);
    if (!(idleTimeoutMs > 0)) throw invalid('idleTimeoutMs', `must be > 0 (Infinity allowed), got ${String(idleTimeoutMs)}`);
    if (this.#looping) throw new Error('a read loop is already running on this RingReader');
    this.#looping = true;
    // Atomics.notify on our own address wakes our own pending waitAsync: nobody else waits on
    // kTail (single consumer), so the abort ends the sleep at once, not after idleTimeoutMs.
    const onAbort = (): void => this.wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    let total = 0;
    try {
      while (signal?.aborted !== true) {
        const n = this.drain(handler, maxBatch);
        total += n;
        if (n === 0 && !this.#refused) await this.waitAsync(idleTimeoutMs);
        else await yieldToEventLoop();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#looping = false;
    }
    return total;
  }

  /** Counters, with this reader's own up to its last drain. */
  stats(): RingStats {
    return { ...readStats(this.#v), readRecords: this.#records, readBytes: this.#bytes, producerWakeups: this.#wakeups };
  }

  #release(head: number, count: number, bytes: number): void {
    const i32 = this.#i32;
    this.#head = head;
    // Atomics.store (seq-cst) releases the space: our plain reads of every record before `head`
    // happen-before the producer's Atomics.load(kHead) that sees it, so it never overwrites
    // bytes we are still reading. One store per batch: one cache-line transfer, not one a record.
    Atomics.store(i32, kHead, head | 0);
    this.#records += count;
    this.#bytes += bytes;
    writeCounter(this.#v, kStatReadRecords, this.#records);
    writeCounter(this.#v, kStatReadBytes, this.#bytes);
    // Load the flag *after* the head store: the mirror of the producer's handshake in flush().
    // exchange so that only the first release after the producer fell asleep notifies.
    if (Atomics.load(i32, kProducerWaiting) !== 0 && Atomics.exchange(i32, kProducerWaiting, 0) !== 0) {
      Atomics.notify(i32, kHead);
      this.#wakeups++;
      writeCounter(this.#v, kStatProducerWakeups, this.#wakeups);
    }
  }
}
