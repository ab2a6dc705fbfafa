/**
 * SharedArrayBuffer single-producer/single-consumer byte rings between the engine's main thread
 * and its scene workers. Layout and memory-ordering argument: `docs/ring.md` and `layout.ts`.
 */
export { createRing, createRingPair, ringStats } from './buffer.js';
export type { RingPair, RingStats } from './buffer.js';
export { RingWriter } from './writer.js';
export type { RingWriterOptions } from './writer.js';
export { RingReader } from './reader.js';
export type { ReadLoopOptions, RecordHandler, RingReaderOptions, RingWaitResult } from './reader.js';
export { HEADER_BYTES as RING_HEADER_BYTES, MAX_CAPACITY_BYTES as RING_MAX_CAPACITY_BYTES, MIN_CAPACITY_BYTES as RING_MIN_CAPACITY_BYTES, RECORD_HEADER_BYTES, maxRecordBytes, recordBytes } from './layout.js';
