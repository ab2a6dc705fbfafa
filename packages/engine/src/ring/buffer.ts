import { CodedError, ErrorCodes } from '@gos/schema';
import {
  DATA_OFFSET,
  HEADER_BYTES,
  LAYOUT_VERSION,
  MAX_CAPACITY_BYTES,
  MIN_CAPACITY_BYTES,
  RING_MAGIC,
  kCapacity,
  kConsumerWaiting,
  kHead,
  kMagic,
  kProducerWaiting,
  kStatConsumerWakeups,
  kStatFull,
  kStatProducerWakeups,
  kStatReadBytes,
  kStatReadRecords,
  kStatWrittenBytes,
  kStatWrittenRecords,
  kTail,
  kVersion,
} from './layout.js';

/** The two buffers of a main ↔ worker ring pair. Post both to the worker (they are shared, not copied). */
export interface RingPair {
  /** Main thread writes, worker reads. */
  readonly toWorker: SharedArrayBuffer;
  /** Worker writes, main thread reads. */
  readonly fromWorker: SharedArrayBuffer;
}

/** A snapshot of a ring's counters, from either side. */
export interface RingStats {
  /** Bytes in the data region. */
  readonly capacityBytes: number;
  /** Bytes published and not yet read (records, headers and padding). */
  readonly usedBytes: number;
  /** Records written. From the writer: all of them; from elsewhere: those flushed. */
  readonly writtenRecords: number;
  /** Payload bytes written (same visibility as `writtenRecords`). */
  readonly writtenBytes: number;
  /** Records delivered to a drain handler. */
  readonly readRecords: number;
  /** Payload bytes delivered to a drain handler. */
  readonly readBytes: number;
  /** Writes refused because the ring was full (never dropped: the caller kept the record). */
  readonly fullCount: number;
  /** Times a flush woke a sleeping consumer. Far below `writtenRecords` when batching works. */
  readonly consumerWakeups: number;
  /** Times the consumer woke a producer waiting for space. */
  readonly producerWakeups: number;
  /** The consumer is sleeping in `waitAsync` (or about to). */
  readonly consumerWaiting: boolean;
  /** The producer is sleeping in `waitForSpace` (or about to). */
  readonly producerWaiting: boolean;
}

/** Views over one ring buffer, shared by the writer and the reader implementations. */
export interface RingViews {
  readonly sab: SharedArrayBuffer;
  /** Header words, for the Atomics operations on positions and flags. */
  readonly i32: Int32Array;
  /** Header counters. */
  readonly i64: BigInt64Array;
  /** Data region as u32 words (record headers). */
  readonly u32: Uint32Array;
  /** Data region as bytes (payloads). */
  readonly u8: Uint8Array;
  readonly capacity: number;
}

function invalid(option: string, why: string): CodedError {
  return new CodedError(ErrorCodes.OPT_ERR_INVALID, `${option} ${why}`);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/**
 * @throws CodedError `OPT_ERR_INVALID` naming `capacityBytes` unless it is a power of two
 * between 256 and 2^30.
 */
export function validateCapacity(capacityBytes: unknown, option = 'capacityBytes'): number {
  if (typeof capacityBytes !== 'number' || !isPowerOfTwo(capacityBytes) || capacityBytes < MIN_CAPACITY_BYTES || capacityBytes > MAX_CAPACITY_BYTES) {
    throw invalid(option, `must be a power of two between ${MIN_CAPACITY_BYTES} and ${MAX_CAPACITY_BYTES}, got ${String(capacityBytes)}`);
  }
  return capacityBytes;
}

/**
 * Allocate one ring: a SharedArrayBuffer of `capacityBytes` of data behind a
 * {@link HEADER_BYTES}-byte header. Attach a `RingWriter` on one thread and a `RingReader` on
 * another; pass the buffer through `workerData`, `postMessage` or a piscina task argument
 * (a SharedArrayBuffer is shared by reference, never copied).
 * @param capacityBytes bytes of the data region, a power of two from 256 to 2^30.
 * @throws CodedError `OPT_ERR_INVALID` naming `capacityBytes`.
 */
export function createRing(capacityBytes: number): SharedArrayBuffer {
  const capacity = validateCapacity(capacityBytes);
  const sab = new SharedArrayBuffer(HEADER_BYTES + capacity);
  const i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
  // Atomics.store rather than plain writes: the header is read with Atomics.load on the other
  // thread, and sharing the buffer (postMessage) then orders these before any such read.
  Atomics.store(i32, kCapacity, capacity);
  Atomics.store(i32, kVersion, LAYOUT_VERSION);
  // The magic goes last: a buffer with the magic is a fully initialised ring.
  Atomics.store(i32, kMagic, RING_MAGIC);
  return sab;
}

/**
 * Two rings of the same capacity, one per direction.
 * @throws CodedError `OPT_ERR_INVALID` naming `capacityBytes`.
 */
export function createRingPair(capacityBytes: number): RingPair {
  validateCapacity(capacityBytes);
  return Object.freeze({ toWorker: createRing(capacityBytes), fromWorker: createRing(capacityBytes) });
}

/**
 * Check that `sab` is a ring made by {@link createRing} and build the views over it.
 * @throws CodedError `OPT_ERR_INVALID` naming `sab`.
 */
export function attachRing(sab: SharedArrayBuffer): RingViews {
  if (!(sab instanceof SharedArrayBuffer)) throw invalid('sab', 'must be a SharedArrayBuffer made by createRing()');
  if (sab.byteLength < HEADER_BYTES + MIN_CAPACITY_BYTES) throw invalid('sab', `is too small to be a ring (${sab.byteLength} bytes)`);
  const i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
  // Atomics.load pairs with the Atomics.store in createRing (see there).
  if (Atomics.load(i32, kMagic) !== RING_MAGIC) throw invalid('sab', 'is not a ring made by createRing() (bad magic)');
  const version = Atomics.load(i32, kVersion);
  if (version !== LAYOUT_VERSION) throw invalid('sab', `has ring layout version ${version}, expected ${LAYOUT_VERSION}`);
  const capacity = Atomics.load(i32, kCapacity);
  validateCapacity(capacity, 'sab capacity');
  if (sab.byteLength !== HEADER_BYTES + capacity) throw invalid('sab', `length ${sab.byteLength} does not match its capacity ${capacity}`);
  return {
    sab,
    i32,
    i64: new BigInt64Array(sab, 0, HEADER_BYTES / 8),
    u32: new Uint32Array(sab, DATA_OFFSET, capacity / 4),
    u8: new Uint8Array(sab, DATA_OFFSET, capacity),
    capacity,
  };
}

/** Read a counter. Atomics.load: the owning side writes it with Atomics.store, never torn. */
export function readCounter(views: RingViews, slot: number): number {
  return Number(Atomics.load(views.i64, slot));
}

/** Publish a counter (owning side only, once per batch: BigInt conversion is not free). */
export function writeCounter(views: RingViews, slot: number, value: number): void {
  Atomics.store(views.i64, slot, BigInt(value));
}

/** A snapshot of the shared header: what the other side has published. */
export function readStats(views: RingViews): RingStats {
  const { i32 } = views;
  return {
    capacityBytes: views.capacity,
    usedBytes: ((Atomics.load(i32, kTail) >>> 0) - (Atomics.load(i32, kHead) >>> 0)) >>> 0,
    writtenRecords: readCounter(views, kStatWrittenRecords),
    writtenBytes: readCounter(views, kStatWrittenBytes),
    readRecords: readCounter(views, kStatReadRecords),
    readBytes: readCounter(views, kStatReadBytes),
    fullCount: readCounter(views, kStatFull),
    consumerWakeups: readCounter(views, kStatConsumerWakeups),
    producerWakeups: readCounter(views, kStatProducerWakeups),
    consumerWaiting: Atomics.load(i32, kConsumerWaiting) !== 0,
    producerWaiting: Atomics.load(i32, kProducerWaiting) !== 0,
  };
}

/**
 * Counters of a ring from any thread, without attaching a writer or reader (for metrics).
 * @throws CodedError `OPT_ERR_INVALID` naming `sab` when it is not a ring.
 */
export function ringStats(sab: SharedArrayBuffer): RingStats {
  return readStats(attachRing(sab));
}

const noop = (): void => {};
/** Largest delay Node's timers take (2^31 - 1 ms); longer ones silently become 1 ms. */
const MAX_TIMER_MS = 0x7fffffff;
/** How long the keep-alive timer outlives V8's own wait timeout, so the timeout ends the wait. */
const KEEP_ALIVE_SLACK_MS = 100;

/**
 * Await an `Atomics.waitAsync` promise while keeping the event loop alive. In Node 20 a pending
 * `Atomics.waitAsync` holds no libuv handle: a worker whose only pending work is such a wait
 * simply exits, and the main thread too. A ref'd timer that lives a little longer than the
 * wait's own timeout (or forever, for an infinite wait) holds the loop open until it settles.
 */
export function keepAlive<T>(wait: Promise<T>, timeoutMs: number): Promise<T> {
  const ms = timeoutMs + KEEP_ALIVE_SLACK_MS;
  const timer = Number.isFinite(ms) && ms <= MAX_TIMER_MS ? setTimeout(noop, ms) : setInterval(noop, MAX_TIMER_MS);
  return wait.finally(() => clearTimeout(timer));
}

/** Validate a timeout argument: a number ≥ 0, `Infinity` allowed. */
export function checkTimeout(name: string, timeoutMs: number): number {
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(`${name} must be a number >= 0 (Infinity allowed), got ${String(timeoutMs)}`);
  }
  return timeoutMs;
}
