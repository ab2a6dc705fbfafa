/**
 * The memory layout of one SPSC byte ring on a SharedArrayBuffer. Every offset either side
 * reads or writes is named here; `docs/ring.md` draws the same picture and gives the
 * memory-ordering argument. Change the layout only together with {@link LAYOUT_VERSION}.
 *
 * ```
 * byte 0          64              128             192             256                256 + capacity
 * | static line   | consumer line | producer line | wake line     | data region ... |
 * ```
 *
 * Each of the three lines written at run time sits on its own 64-byte cache line so that the
 * producer publishing `kTail` does not invalidate the line the consumer writes `kHead` into
 * (false sharing would make every record a cache-line ping-pong between the two cores).
 *
 * Positions (`kHead`, `kTail`) are free-running byte counters modulo 2^32, stored as int32 and
 * read back with `>>> 0`. The offset inside the data region is `position & (capacity - 1)`;
 * the bytes in use are `(tail - head) >>> 0`. Because the capacity is a power of two no larger
 * than 2^30 both stay exact when the counters wrap past 2^32.
 */

/** Bytes of a cache line on the machines we run on (x86-64, arm64). */
export const CACHE_LINE_BYTES = 64;

/** Bytes of the header in front of the data region: four cache lines. */
export const HEADER_BYTES = 4 * CACHE_LINE_BYTES;

/** The data region starts here; 64-byte aligned, so every record slot is 8-byte aligned. */
export const DATA_OFFSET = HEADER_BYTES;

// ---------------------------------------------------------------------------------------------
// Int32 slots: indices into `new Int32Array(sab, 0, HEADER_BYTES / 4)`.
// ---------------------------------------------------------------------------------------------

// Static line (bytes 0–63), written once by `createRing` before the buffer is shared.
/** Int32 slot: {@link RING_MAGIC}; attaching to a buffer without it fails. */
export const kMagic = 0;
/** Int32 slot: {@link LAYOUT_VERSION}. */
export const kVersion = 1;
/** Int32 slot: bytes in the data region (a power of two). */
export const kCapacity = 2;

// Consumer line (bytes 64–127): only the consumer writes here.
/** Int32 slot: the consumer's position: everything before it has been read and may be reused. */
export const kHead = 64 / 4;

// Producer line (bytes 128–191): only the producer writes here.
/** Int32 slot: the producer's published position: everything before it is a complete record. */
export const kTail = 128 / 4;

// Wake line (bytes 192–255): flags both sides write. Each is the "I am about to sleep" half of
// a Dekker-style handshake with the other side's position store; see `docs/ring.md`.
/**
 * Int32 slot: non-zero while the consumer sleeps (or is about to) in `Atomics.waitAsync` on
 * `kTail`: {@link WAKE_ANY} to be woken by any flush, {@link WAKE_URGENT} only by a flush that
 * publishes an urgent record (or a full ring).
 */
export const kConsumerWaiting = 192 / 4;
/** `kConsumerWaiting`: wake the consumer for any record. */
export const WAKE_ANY = 1;
/**
 * `kConsumerWaiting`: wake the consumer only for an urgent record; the others wait in the ring
 * until the consumer drains for another reason (a scene draining its inputs at its tick).
 */
export const WAKE_URGENT = 2;
/** Int32 slot: 1 while the producer sleeps (or is about to) in `Atomics.waitAsync` on `kHead`. */
export const kProducerWaiting = 192 / 4 + 1;

// ---------------------------------------------------------------------------------------------
// BigInt64 counter slots: indices into `new BigInt64Array(sab, 0, HEADER_BYTES / 8)`.
// Each counter is written (Atomics.store, once per batch) by one side only and read by anyone.
// They sit on the line of the side that writes them, so updating them adds no cross-core traffic
// beyond the position store made in the same batch.
// ---------------------------------------------------------------------------------------------

/** Consumer line, BigInt64 slot: records read (delivered to a drain handler). */
export const kStatReadRecords = 72 / 8;
/** Consumer line, BigInt64 slot: payload bytes read. */
export const kStatReadBytes = 80 / 8;
/** Consumer line, BigInt64 slot: times the consumer woke a producer waiting for space. */
export const kStatProducerWakeups = 88 / 8;

/** Producer line, BigInt64 slot: records written, as of the producer's last flush. */
export const kStatWrittenRecords = 136 / 8;
/** Producer line, BigInt64 slot: payload bytes written, as of the producer's last flush. */
export const kStatWrittenBytes = 144 / 8;
/**
 * Producer line, BigInt64 slot: writes refused because the ring was full. The ring never drops
 * a record: a refused record was not written, and the caller still holds it.
 */
export const kStatFull = 152 / 8;
/** Producer line, BigInt64 slot: times a flush woke a sleeping consumer (one notify per flush at most). */
export const kStatConsumerWakeups = 160 / 8;

/** "RING" in ASCII. */
export const RING_MAGIC = 0x52494e47;
/** Bumped on any change to this file that changes bytes in the buffer. */
export const LAYOUT_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Capacity limits.
// ---------------------------------------------------------------------------------------------

/** Smallest data region accepted by `createRing`. */
export const MIN_CAPACITY_BYTES = 256;
/** Largest data region: keeps `tail - head` unambiguous in 32-bit arithmetic with room to spare. */
export const MAX_CAPACITY_BYTES = 1 << 30;

// ---------------------------------------------------------------------------------------------
// Records in the data region. Native byte order (little-endian on every platform Node supports
// here); both sides are threads of one process, so the order never crosses a machine.
//
//   +0  u32  length   payload bytes, or PAD_MARKER
//   +4  u8   type     message kind; bytes +5..+7 are zero
//   +8  u32  a        small integer argument (a connection id, a sid…)
//   +12 u32  b        small integer argument (a request id, an opcode, a close code…)
//   +16 ...  payload  `length` bytes, then zero to seven unused bytes up to the next 8-byte boundary
//
// A record never splits across the end of the region. When the next record does not fit in
// the bytes left before the end, the producer writes PAD_MARKER as the length word there and
// the record at offset 0; the consumer skips from a PAD_MARKER to offset 0. The slot at the
// end is always at least 8 bytes (every position is 8-aligned), so the marker always fits.
// ---------------------------------------------------------------------------------------------

/** Records start on 8-byte boundaries (so the u32 words below are aligned for Uint32Array). */
export const RECORD_ALIGN = 8;
/** Bytes before a record's payload. */
export const RECORD_HEADER_BYTES = 16;
/** u32 word index within a record: payload length or {@link PAD_MARKER}. */
export const REC_LENGTH = 0;
/** u32 word index within a record: the type in its low byte; the other three bytes are zero. */
export const REC_TYPE = 1;
/** u32 word index within a record: its `sid`, the engine-local id of the player's connection it concerns (0 when none). */
export const REC_SID = 2;
/** u32 word index within a record: its `value`, a number whose meaning depends on the type (records.ts). */
export const REC_VALUE = 3;
/** Length word meaning "nothing more before the end of the region: continue at offset 0". */
export const PAD_MARKER = 0xffffffff;
/** Largest record type. */
export const MAX_RECORD_TYPE = 0xff;

/**
 * The largest record (header + payload, aligned) a ring of `capacityBytes` accepts: half the
 * capacity. That bound guarantees an empty ring always takes it, whatever the wrap padding,
 * so a producer waiting for space for a legal record can always make progress.
 */
export function maxRecordBytes(capacityBytes: number): number {
  return capacityBytes / 2;
}

/** Bytes a record with `payloadBytes` of payload takes in the ring (header and alignment included). */
export function recordBytes(payloadBytes: number): number {
  return (RECORD_HEADER_BYTES + payloadBytes + (RECORD_ALIGN - 1)) & ~(RECORD_ALIGN - 1);
}
