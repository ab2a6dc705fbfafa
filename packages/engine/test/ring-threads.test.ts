import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { setTimeout } from 'node:timers/promises';
import { seededRandom, waitFor } from '@gos/testing';
import {
  RECORD_HEADER_BYTES,
  RingReader,
  RingWriter,
  createRingPair,
  recordBytes,
  ringStats,
  type RecordHandler,
} from '../src/ring/index.js';
import {
  T_DATA,
  T_END,
  T_REPORT,
  WAIT_CODES,
  checksum,
  fillPayload,
  payloadLength,
  payloadMatches,
  type EchoWorkerData,
  type SleeperWorkerData,
} from './fixtures/ring-protocol.js';

const ECHO_WORKER = new URL('./fixtures/ring-echo-worker.js', import.meta.url);
const SLEEPER_WORKER = new URL('./fixtures/ring-sleeper-worker.js', import.meta.url);
const ANY_SLEEPER_ECHO_WORKER = new URL('./fixtures/ring-any-sleeper-echo-worker.js', import.meta.url);

interface Started {
  readonly worker: Worker;
  /** Resolves with the exit code; rejects if the worker throws. */
  readonly exited: Promise<number>;
  /** The worker's error, once it has failed. */
  failure(): unknown;
}

function startWorker(url: URL, workerData: EchoWorkerData | SleeperWorkerData): Started {
  const worker = new Worker(url, { workerData });
  let failure: unknown = null;
  const exited = new Promise<number>((resolve, reject) => {
    worker.once('error', (err) => {
      failure = err;
      reject(err);
    });
    worker.once('exit', resolve);
  });
  // Observed through `exited` by the test; this only keeps an early failure from being unhandled.
  exited.catch(() => {});
  return { worker, exited, failure: () => failure };
}

/** Wait for exactly one record on `reader` and return it (copied). */
async function readOne(reader: RingReader): Promise<{ type: number; a: number; b: number }> {
  let got: { type: number; a: number; b: number } | null = null;
  while (got === null) {
    if (reader.drain((type, a, b) => void (got = { type, a, b }), 1) === 0) await reader.waitAsync(1000);
  }
  return got;
}

describe('ring: two threads', () => {
  it('1,000,000 records main → worker → main through 4 KiB rings: no loss, reorder or duplicate', { timeout: 120_000 }, async (t) => {
    const N = 1_000_000;
    const rings = createRingPair(4096);
    const writer = new RingWriter(rings.toWorker);
    const reader = new RingReader(rings.fromWorker);
    const started = startWorker(ECHO_WORKER, { toWorker: rings.toWorker, fromWorker: rings.fromWorker });
    const maxPayload = writer.maxPayloadBytes;

    const ac = new AbortController();
    let expected = 0;
    let ended = false;
    const check: RecordHandler = (type, a, b, payload) => {
      if (type === T_END) {
        if (a !== N || expected !== N) assert.fail(`END after ${expected} records (sender counted ${a})`);
        ended = true;
        ac.abort();
        return;
      }
      if (type !== T_DATA) assert.fail(`record ${expected}: unexpected type ${type}`);
      if (a !== expected) assert.fail(`expected record ${expected}, got ${a} (loss, reorder or duplicate)`);
      if (!payloadMatches(payload, a, payloadLength(a, maxPayload))) assert.fail(`record ${a}: payload corrupted`);
      if (b !== checksum(a, payload)) assert.fail(`record ${a}: checksum mismatch`);
      expected++;
    };
    let loopFailure: unknown = null;
    const loop = reader.startReadLoop(check, { signal: ac.signal });
    loop.catch((err: unknown) => {
      loopFailure = err;
    });
    const stopIfFailed = (): void => {
      if (loopFailure !== null) throw loopFailure;
      const failure = started.failure();
      if (failure !== null) throw failure;
    };

    const t0 = performance.now();
    const scratch = new Uint8Array(maxPayload);
    let producerWaits = 0;
    for (let seq = 0; seq < N; seq++) {
      const len = payloadLength(seq, maxPayload);
      const payload = scratch.subarray(0, len);
      fillPayload(payload, seq, len);
      const sum = checksum(seq, payload);
      // Back-pressure: when the ring is full, wait for the worker to free space (tryWrite has
      // already flushed, so the worker can see everything that fills the ring).
      while (!writer.tryWrite(T_DATA, seq, sum, payload)) {
        stopIfFailed();
        producerWaits++;
        await writer.waitForSpace(recordBytes(len), 1000);
      }
    }
    while (!writer.tryWrite(T_END, N, 0, null)) {
      stopIfFailed();
      await writer.waitForSpace(RECORD_HEADER_BYTES, 1000);
    }
    writer.flush();
    const total = await loop;
    const ms = performance.now() - t0;

    assert.equal(ended, true);
    assert.equal(total, N + 1);
    assert.equal(await started.exited, 0, 'the echo worker exits by itself once done');
    const out = writer.stats();
    const back = reader.stats();
    assert.equal(out.writtenRecords, N + 1);
    assert.equal(ringStats(rings.toWorker).readRecords, N + 1, 'the worker read every record');
    assert.equal(back.writtenRecords, N + 1);
    assert.equal(back.readRecords, N + 1);
    assert.equal(back.readBytes, out.writtenBytes);
    assert.ok(out.fullCount > 0, 'a 4 KiB ring must have filled up (back-pressure exercised)');
    assert.ok(producerWaits > 0);
    // Information only, never asserted: timings depend on the machine.
    t.diagnostic(
      `${N} round trips in ${ms.toFixed(0)} ms (${Math.round((N / ms) * 1000)}/s); ` +
        `main→worker: full ${out.fullCount}, consumer wake-ups ${out.consumerWakeups}, producer wake-ups ${ringStats(rings.toWorker).producerWakeups}; ` +
        `worker→main: full ${back.fullCount}, consumer wake-ups ${back.consumerWakeups}, producer wake-ups ${back.producerWakeups}`,
    );
  });

  it("nonUrgent 'at-once': 50,000 quiet records, each echoed before the next, wake a worker asleep for any record without a timeout", { timeout: 120_000 }, async () => {
    // Each record is written as the worker finishes echoing the last one and goes back to sleep:
    // a quiet record that woke nobody would leave it asleep for ever (the test's timeout).
    const N = 50_000;
    const rings = createRingPair(4096);
    const writer = new RingWriter(rings.toWorker, { autoFlush: true, autoFlushVia: 'immediate', nonUrgent: 'at-once' });
    const reader = new RingReader(rings.fromWorker);
    const started = startWorker(ANY_SLEEPER_ECHO_WORKER, { toWorker: rings.toWorker, fromWorker: rings.fromWorker });
    const random = seededRandom(11);
    for (let seq = 0; seq < N; seq++) {
      // A few microseconds of spin, varied: the write lands at different points of the worker's
      // way from its empty drain to its sleep.
      const until = performance.now() + random() * 0.02;
      while (performance.now() < until);
      writer.write(T_DATA, seq, 0, null, false);
      const got = await readOne(reader);
      assert.deepEqual(got, { type: T_DATA, a: seq, b: 0 });
    }
    writer.write(T_END, N, 0, null);
    assert.equal((await readOne(reader)).type, T_END);
    assert.equal(await started.exited, 0);
    assert.ok(writer.stats().consumerWakeups > 0, 'the sleeping worker was woken by the writer');
  });

  it('a consumer sleeping in waitAsync on another thread is woken by a single flush', { timeout: 60_000 }, async () => {
    const rings = createRingPair(4096);
    const writer = new RingWriter(rings.toWorker);
    const reader = new RingReader(rings.fromWorker);
    const started = startWorker(SLEEPER_WORKER, { ...rings, timeoutMs: 60_000 });
    await waitFor(
      () => {
        if (started.failure() !== null) throw started.failure();
        return ringStats(rings.toWorker).consumerWaiting;
      },
      { timeoutMs: 30_000, message: 'the worker to wait on its ring', intervalMs: 1 },
    );
    // A duration, not a condition: the flag is stored just before Atomics.waitAsync, in the same
    // synchronous run, and nothing shows the worker got from one to the other; give it a moment.
    await setTimeout(100);
    for (let i = 0; i < 100; i++) writer.write(T_DATA, i, 0, null);
    // A duration, not a condition: writes without a flush must wake nobody within 50 ms.
    await setTimeout(50);
    assert.equal(ringStats(rings.toWorker).consumerWaiting, true, 'writes without a flush do not wake the consumer');
    assert.equal(reader.availableBytes(), 0);
    writer.flush();
    assert.deepEqual(await readOne(reader), { type: T_REPORT, a: WAIT_CODES.ok, b: 100 });
    assert.equal(writer.stats().consumerWakeups, 1, 'one flush, one notify for 100 records');
    assert.equal(await started.exited, 0);
  });

  it('a worker whose only pending work is waitAsync stays alive until the wait times out', { timeout: 60_000 }, async () => {
    const rings = createRingPair(1024);
    const reader = new RingReader(rings.fromWorker);
    const started = startWorker(SLEEPER_WORKER, { ...rings, timeoutMs: 200 });
    assert.equal(await started.exited, 0);
    assert.deepEqual(await readOne(reader), { type: T_REPORT, a: WAIT_CODES['timed-out'], b: 0 });
  });
});
