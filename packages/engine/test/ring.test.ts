import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError, ErrorCodes } from '@gos/schema';
import { seededRandom, waitFor } from '@gos/testing';
import {
  RECORD_HEADER_BYTES,
  RingReader,
  RingWriter,
  createRing,
  createRingPair,
  recordBytes,
  ringStats,
  type RecordHandler,
} from '../src/ring/index.js';
import { HEADER_BYTES, kHead, kTail } from '../src/ring/layout.js';
import { checksum, fillPayload, payloadMatches } from './fixtures/ring-protocol.js';

function isCode(code: string): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof CodedError, `expected a CodedError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Got {
  type: number;
  a: number;
  b: number;
  payload: Uint8Array;
}

function collect(reader: RingReader, max?: number): Got[] {
  const got: Got[] = [];
  reader.drain((type, a, b, payload) => {
    got.push({ type, a, b, payload: payload.slice() });
  }, max);
  return got;
}

describe('ring: options and buffers', () => {
  it('rejects a capacity that is not a power of two, naming the option', () => {
    for (const bad of [0, 100, 1000, 3 * 1024, 128, 2 ** 31, -256, 1.5, Number.NaN]) {
      assert.throws(
        () => createRing(bad),
        (err: unknown) => isCode(ErrorCodes.OPT_ERR_INVALID)(err) && /capacityBytes/.test((err as Error).message),
        `capacity ${bad}`,
      );
    }
    assert.throws(() => createRing('4096' as unknown as number), isCode(ErrorCodes.OPT_ERR_INVALID));
    assert.throws(() => createRingPair(1000), /capacityBytes/);
  });

  it('sizes the buffer as header + capacity and pairs two distinct rings', () => {
    const sab = createRing(4096);
    assert.equal(sab.byteLength, HEADER_BYTES + 4096);
    const pair = createRingPair(1024);
    assert.notEqual(pair.toWorker, pair.fromWorker);
    assert.equal(new RingWriter(pair.toWorker).capacityBytes, 1024);
    assert.equal(new RingReader(pair.fromWorker).capacityBytes, 1024);
    assert.ok(Object.isFrozen(pair));
  });

  it('refuses to attach to a buffer that is not a ring, naming sab', () => {
    const named = (err: unknown): boolean => isCode(ErrorCodes.OPT_ERR_INVALID)(err) && /\bsab\b/.test((err as Error).message);
    assert.throws(() => new RingWriter(new SharedArrayBuffer(HEADER_BYTES + 4096)), named);
    assert.throws(() => new RingReader(new SharedArrayBuffer(16)), named);
    assert.throws(() => new RingReader(new ArrayBuffer(4096) as unknown as SharedArrayBuffer), named);
    const grown = new SharedArrayBuffer(HEADER_BYTES + 8192);
    new Uint8Array(grown).set(new Uint8Array(createRing(4096)).subarray(0, HEADER_BYTES));
    assert.throws(() => new RingReader(grown), named);
  });

  it('validates writer and reader options, naming the option', () => {
    const sab = createRing(1024);
    assert.throws(() => new RingWriter(sab, { autoFlush: 'yes' as unknown as boolean }), /autoFlush/);
    assert.throws(() => new RingWriter(sab, { autoFlushVia: 'later' as unknown as 'microtask' }), /autoFlushVia/);
    assert.throws(() => new RingReader(sab, { keepAlive: 1 as unknown as boolean }), isCode(ErrorCodes.OPT_ERR_INVALID));
  });
});

describe('ring: single thread', () => {
  it('round-trips type, a, b and payload; a and b are u32', () => {
    const sab = createRing(1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    w.write(7, 1, 2, new Uint8Array([1, 2, 3]));
    w.write(255, 0xffffffff, -1, null);
    w.write(0, 123456789, 42, new Uint8Array(0));
    w.flush();
    const got = collect(r);
    assert.equal(got.length, 3);
    assert.deepEqual(got[0], { type: 7, a: 1, b: 2, payload: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(got[1], { type: 255, a: 0xffffffff, b: 0xffffffff, payload: new Uint8Array(0) });
    assert.deepEqual(got[2], { type: 0, a: 123456789, b: 42, payload: new Uint8Array(0) });
    assert.throws(() => w.write(256, 0, 0, null), RangeError);
    assert.throws(() => w.write(-1, 0, 0, null), RangeError);
    assert.throws(() => w.write(1.5, 0, 0, null), RangeError);
  });

  it('publishes nothing before flush, everything at once after', () => {
    const sab = createRing(1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    for (let i = 0; i < 5; i++) assert.equal(w.tryWrite(1, i, 0, null), true);
    assert.equal(w.unflushedBytes, 5 * RECORD_HEADER_BYTES);
    assert.equal(r.availableBytes(), 0);
    assert.equal(r.drain(() => assert.fail('nothing is published yet')), 0);
    w.flush();
    assert.equal(w.unflushedBytes, 0);
    assert.deepEqual(
      collect(r).map((g) => g.a),
      [0, 1, 2, 3, 4],
    );
  });

  it('wraps around many times with varied record sizes, contents intact', () => {
    const sab = createRing(1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const rand = seededRandom(1);
    const scratch = new Uint8Array(w.maxPayloadBytes);
    const total = 200_000;
    let sent = 0;
    let received = 0;
    const check: RecordHandler = (type, a, b, payload) => {
      assert.equal(type, 9);
      assert.equal(a, received, 'sequence');
      assert.equal(b, checksum(a, payload), `checksum of record ${a}`);
      received++;
    };
    while (received < total) {
      // Write a random burst (until full or the burst ends), then drain a random number.
      const burst = 1 + Math.floor(rand() * 40);
      for (let i = 0; i < burst && sent < total; i++) {
        const len = rand() < 0.05 ? Math.floor(rand() * (w.maxPayloadBytes + 1)) : Math.floor(rand() * 64);
        const payload = scratch.subarray(0, len);
        fillPayload(payload, sent, len);
        if (!w.tryWrite(9, sent, checksum(sent, payload), payload)) break;
        sent++;
      }
      w.flush();
      r.drain(check, 1 + Math.floor(rand() * 50));
    }
    assert.equal(r.drain(check), 0);
    const s = r.stats();
    assert.equal(s.readRecords, total);
    assert.equal(s.writtenRecords, total);
    assert.equal(s.readBytes, s.writtenBytes);
    assert.equal(s.usedBytes, 0);
    assert.ok(s.readBytes > 500 * 1024, `wrapped ${Math.floor(s.readBytes / 1024)} times`);
  });

  it('keeps working when the positions pass 2^32', () => {
    const sab = createRing(256);
    const i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
    const start = 2 ** 32 - 3 * 64;
    Atomics.store(i32, kHead, start | 0);
    Atomics.store(i32, kTail, start | 0);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const payload = new Uint8Array(40);
    for (let seq = 0; seq < 1000; seq++) {
      fillPayload(payload, seq, payload.length);
      w.write(3, seq, 0, payload);
      w.flush();
      let n = 0;
      r.drain((_t, a, _b, p) => {
        assert.equal(a, seq);
        assert.ok(payloadMatches(p, seq, payload.length));
        n++;
      });
      assert.equal(n, 1);
    }
    assert.ok(Atomics.load(i32, kTail) >>> 0 < start, 'the tail wrapped past 2^32');
  });

  it('full ring: tryWrite is false, write throws ENG_ERR_QUEUE_FULL, nothing lost or corrupted', () => {
    const sab = createRing(1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const payload = new Uint8Array(25);
    let seq = 0;
    const writeNext = (): boolean => {
      fillPayload(payload, seq, payload.length);
      if (!w.tryWrite(1, seq, 0, payload)) return false;
      seq++;
      return true;
    };
    while (writeNext());
    assert.equal(seq, Math.floor(1024 / recordBytes(25)));
    assert.equal(w.tryWrite(1, seq, 0, payload), false);
    assert.throws(() => w.write(1, seq, 0, payload), isCode(ErrorCodes.ENG_ERR_QUEUE_FULL));
    assert.throws(() => w.write(1, seq, 0, payload), { code: 'ENG_ERR_QUEUE_FULL' });
    assert.equal(w.stats().fullCount, 4);
    // A refusal flushed what was pending: the consumer can see (and free) everything.
    assert.equal(w.unflushedBytes, 0);
    assert.equal(r.availableBytes(), seq * recordBytes(25));
    // Free a little, and the writer continues exactly where it stopped.
    let next = 0;
    const check: RecordHandler = (_t, a, _b, p) => {
      assert.equal(a, next);
      assert.ok(payloadMatches(p, a, 25), `payload of ${a}`);
      next++;
    };
    assert.equal(r.drain(check, 3), 3);
    let more = 0;
    while (writeNext()) more++;
    assert.equal(more, 3);
    w.flush();
    r.drain(check);
    assert.equal(next, seq);
    assert.equal(r.stats().readRecords, seq);
  });

  it('rejects a record larger than half the ring with ENG_ERR_RECORD_TOO_LARGE, at any position', async () => {
    const sab = createRing(1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    assert.equal(w.maxPayloadBytes, 512 - RECORD_HEADER_BYTES);
    const tooBig = new Uint8Array(w.maxPayloadBytes + 1);
    assert.throws(() => w.tryWrite(1, 0, 0, tooBig), isCode(ErrorCodes.ENG_ERR_RECORD_TOO_LARGE));
    assert.throws(() => w.write(1, 0, 0, tooBig), isCode(ErrorCodes.ENG_ERR_RECORD_TOO_LARGE));
    await assert.rejects(w.waitForSpace(513, 0), isCode(ErrorCodes.ENG_ERR_RECORD_TOO_LARGE));
    assert.equal(w.canWrite(w.maxPayloadBytes + 1), false);
    assert.equal(w.stats().writtenRecords, 0);
    // The largest record fits an empty ring wherever the previous record left the position.
    const max = new Uint8Array(w.maxPayloadBytes);
    for (let shift = 0; shift < 1024; shift += 8) {
      w.write(2, shift, 0, null);
      w.flush();
      r.drain(() => {});
      fillPayload(max, shift, max.length);
      assert.equal(w.tryWrite(1, shift, 0, max), true, `max record after ${shift}`);
      w.flush();
      const got = collect(r);
      assert.equal(got.length, 1);
      assert.ok(payloadMatches(got[0]!.payload, shift, max.length));
    }
  });

  it('a throwing handler consumes its record; a refusing handler keeps it', () => {
    const sab = createRing(1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    for (let i = 0; i < 6; i++) w.write(1, i, 0, null);
    w.flush();
    const seen: number[] = [];
    assert.throws(
      () =>
        r.drain((_t, a) => {
          seen.push(a);
          if (a === 1) throw new Error('boom');
        }),
      /boom/,
    );
    assert.deepEqual(seen, [0, 1]);
    assert.equal(r.stats().readRecords, 2);
    // Refuse record 3: drain stops before it, and the next drain starts with it.
    assert.equal(
      r.drain((_t, a) => {
        seen.push(a);
        return a !== 3;
      }),
      1,
    );
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.deepEqual(
      collect(r).map((g) => g.a),
      [3, 4, 5],
    );
    assert.throws(() => {
      w.write(1, 9, 0, null);
      w.flush();
      r.drain(() => {
        r.drain(() => {});
      });
    }, /inside its own handler/);
  });

  it('auto-flush publishes once per turn (microtask or immediate)', async () => {
    for (const via of ['microtask', 'immediate'] as const) {
      const sab = createRing(1024);
      const w = new RingWriter(sab, { autoFlush: true, autoFlushVia: via });
      const r = new RingReader(sab);
      w.write(1, 1, 0, null);
      w.write(1, 2, 0, null);
      assert.equal(r.availableBytes(), 0, `${via}: not before the turn ends`);
      await tick();
      await tick();
      assert.equal(r.availableBytes(), 2 * RECORD_HEADER_BYTES, via);
      assert.deepEqual(
        collect(r).map((g) => g.a),
        [1, 2],
      );
    }
  });

  it('immediate gathers the writes of several callbacks of one turn into one publication; microtask publishes after each', async () => {
    for (const via of ['microtask', 'immediate'] as const) {
      const sab = createRing(1024);
      const w = new RingWriter(sab, { autoFlush: true, autoFlushVia: via });
      const r = new RingReader(sab);
      // Three callbacks of one event-loop turn (timers due together), each writing one record,
      // as three sockets' messages handed over one uWS callback at a time.
      const seen: number[] = [];
      await new Promise<void>((resolve) => {
        for (let i = 1; i <= 3; i++) {
          setTimeout(() => {
            seen.push(r.availableBytes() / RECORD_HEADER_BYTES);
            w.write(1, i, 0, null);
            if (i === 3) setImmediate(() => setImmediate(resolve));
          }, 0);
        }
      });
      assert.deepEqual(seen, via === 'microtask' ? [0, 1, 2] : [0, 0, 0], `${via}: records visible before each callback`);
      assert.deepEqual(collect(r).map((g) => g.a), [1, 2, 3], via);
    }
  });

  it('wake ends the reader\'s own sleep at once, with nothing written', async () => {
    const sab = createRing(4096);
    const r = new RingReader(sab);
    const sleeping = r.waitAsync(60_000);
    assert.equal(ringStats(sab).consumerWaiting, true);
    r.wake();
    assert.equal(await sleeping, 'ok');
    assert.equal(ringStats(sab).consumerWaiting, false);
    assert.equal(r.drain(() => {}), 0);
  });

  it('waitAsync: woken by one flush, not by writes; not-equal when records wait; timed-out when idle', async () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    assert.equal(await r.waitAsync(10), 'timed-out');
    assert.equal(await r.waitAsync(0), 'timed-out');
    let settled = false;
    const sleeping = r.waitAsync().then((v) => {
      settled = true;
      return v;
    });
    assert.equal(ringStats(sab).consumerWaiting, true);
    for (let i = 0; i < 100; i++) w.write(1, i, 0, null);
    await tick();
    await tick();
    assert.equal(settled, false, 'writes without a flush do not wake the consumer');
    w.flush();
    w.flush(); // nothing new: no second notify
    assert.equal(await sleeping, 'ok');
    assert.equal(w.stats().consumerWakeups, 1);
    assert.equal(ringStats(sab).consumerWaiting, false);
    assert.equal(await r.waitAsync(1000), 'not-equal');
    assert.equal(r.drain(() => {}), 100);
    // A busy consumer (not sleeping) costs the producer no notify.
    w.write(1, 0, 0, null);
    w.flush();
    assert.equal(w.stats().consumerWakeups, 1);
  });

  it("waitAsync(…, 'urgent'): flushes of records that are not urgent leave it asleep; an urgent one or a full ring wakes it", async () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    let settled = false;
    const sleeping = r.waitAsync(Infinity, 'urgent').then((v) => {
      settled = true;
      return v;
    });
    for (let i = 0; i < 10; i++) {
      w.write(1, i, 0, null, false);
      w.flush();
    }
    await tick();
    await tick();
    assert.equal(settled, false, 'ten flushes of inputs that are not urgent did not wake it');
    assert.equal(w.stats().consumerWakeups, 0);
    assert.equal(ringStats(sab).consumerWaiting, true);
    // The records are published all the same: a drain by another path (the tick) sees them.
    assert.equal(r.drain(() => {}), 10);
    w.write(2, 0, 0, null);
    w.flush();
    assert.equal(await sleeping, 'ok');
    assert.equal(w.stats().consumerWakeups, 1);
    assert.equal(r.drain(() => {}), 1);

    // A sleep for any record is woken by the same non-urgent flush.
    const anySleep = r.waitAsync(Infinity, 'any');
    w.write(1, 0, 0, null, false);
    w.flush();
    assert.equal(await anySleep, 'ok');
    assert.equal(w.stats().consumerWakeups, 2);
    r.drain(() => {});

    // A full ring wakes an urgent-only sleeper: it cannot free space asleep.
    const fullSleep = r.waitAsync(Infinity, 'urgent');
    let written = 0;
    while (w.tryWrite(1, written, 0, new Uint8Array(100), false)) written++;
    assert.equal(await fullSleep, 'ok');
    assert.equal(w.stats().consumerWakeups, 3);
    assert.equal(r.drain(() => {}), written);
    await assert.rejects(r.waitAsync(0, 'sometimes' as 'any'), isCode(ErrorCodes.OPT_ERR_INVALID));
  });

  it("nonUrgent 'at-once': a record that wakes nobody is published as it is written; one that must wake waits for the flush", async () => {
    const sab = createRing(4096);
    const w = new RingWriter(sab, { autoFlush: true, autoFlushVia: 'immediate', nonUrgent: 'at-once' });
    const r = new RingReader(sab);
    // Consumer awake: quiet records are visible at once, no flush pending.
    w.write(1, 1, 0, null, false);
    w.write(1, 2, 0, null, false);
    assert.equal(w.unflushedBytes, 0);
    assert.deepEqual(collect(r).map((g) => g.a), [1, 2]);

    // Asleep for urgent records only: quiet ones are published and leave it asleep.
    let settled = false;
    const urgentSleep = r.waitAsync(Infinity, 'urgent').then((v) => {
      settled = true;
      return v;
    });
    w.write(1, 3, 0, null, false);
    assert.equal(w.unflushedBytes, 0);
    await tick();
    await tick();
    assert.equal(settled, false, 'a quiet record did not wake an urgent-only sleeper');
    assert.equal(r.availableBytes(), RECORD_HEADER_BYTES);
    // An urgent record waits for the flush, which wakes it; a quiet one behind it waits too.
    w.write(2, 4, 0, null, true);
    w.write(1, 5, 0, null, false);
    assert.equal(w.unflushedBytes, 2 * RECORD_HEADER_BYTES);
    assert.equal(await urgentSleep, 'ok');
    assert.equal(w.stats().consumerWakeups, 1);
    assert.deepEqual(collect(r).map((g) => g.a), [3, 4, 5]);

    // Asleep for any record: a quiet record must wake it, so it waits for the flush as before.
    const anySleep = r.waitAsync(Infinity, 'any');
    w.write(1, 6, 0, null, false);
    assert.equal(w.unflushedBytes, RECORD_HEADER_BYTES);
    assert.equal(await anySleep, 'ok');
    assert.equal(w.stats().consumerWakeups, 2);
    assert.deepEqual(collect(r).map((g) => g.a), [6]);

    // A ring filled with quiet records, all published as written, still wakes an urgent-only
    // sleeper when the next one does not fit: it is the one that can free space.
    const fullSleep = r.waitAsync(Infinity, 'urgent');
    let written = 0;
    while (w.tryWrite(1, written, 0, new Uint8Array(100), false)) written++;
    assert.equal(w.unflushedBytes, 0);
    assert.equal(await fullSleep, 'ok');
    assert.equal(w.stats().consumerWakeups, 3);
    assert.equal(r.drain(() => {}), written);
    assert.throws(() => new RingWriter(sab, { nonUrgent: 'sometimes' as 'at-once' }), isCode(ErrorCodes.OPT_ERR_INVALID));
  });

  it('waitForSpace: false on timeout, true once the consumer frees space (which notifies)', async () => {
    const sab = createRing(256);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    const payload = new Uint8Array(100);
    while (w.tryWrite(1, 0, 0, payload));
    const need = RECORD_HEADER_BYTES + payload.length;
    assert.equal(w.canWrite(payload.length), false);
    assert.equal(await w.waitForSpace(need, 5), false);
    assert.equal(ringStats(sab).producerWaiting, false);
    const waiting = w.waitForSpace(need);
    assert.equal(ringStats(sab).producerWaiting, true);
    setTimeout(() => r.drain(() => {}, 1), 5);
    assert.equal(await waiting, true);
    assert.equal(r.stats().producerWakeups, 1);
    assert.equal(w.canWrite(payload.length), true);
    assert.ok(w.freeBytes() >= recordBytes(payload.length));
    assert.equal(w.tryWrite(1, 0, 0, payload), true);
  });

  it('startReadLoop delivers in order, sleeps when idle, and stops at once on abort', async () => {
    const sab = createRing(1024);
    const w = new RingWriter(sab, { autoFlush: true });
    const r = new RingReader(sab);
    const seen: number[] = [];
    const ac = new AbortController();
    const loop = r.startReadLoop((_t, a) => void seen.push(a), { signal: ac.signal, idleTimeoutMs: 60_000 });
    await assert.rejects(r.startReadLoop(() => {}), /already running/);
    for (let i = 0; i < 500; i++) {
      while (!w.tryWrite(1, i, 0, null)) await w.waitForSpace(RECORD_HEADER_BYTES);
    }
    await waitFor(() => seen.length >= 500, { timeoutMs: 5000, message: 'the read loop to deliver 500 records' });
    assert.deepEqual(
      seen,
      Array.from({ length: 500 }, (_, i) => i),
    );
    // The loop sleeps now (60 s idle timeout); the abort wakes it without waiting for that.
    await waitFor(() => ringStats(sab).consumerWaiting, { timeoutMs: 5000, message: 'the idle read loop to sleep' });
    ac.abort();
    assert.equal(await loop, 500);
  });

  it('startReadLoop rejects with the handler error and validates its options', async () => {
    const sab = createRing(1024);
    const w = new RingWriter(sab);
    const r = new RingReader(sab);
    w.write(1, 0, 0, null);
    w.flush();
    await assert.rejects(
      r.startReadLoop(() => {
        throw new CodedError(ErrorCodes.ENG_ERR_HANDLER_FAILED, 'bad record');
      }),
      isCode(ErrorCodes.ENG_ERR_HANDLER_FAILED),
    );
    await assert.rejects(r.startReadLoop(() => {}, { maxBatch: 0 }), /maxBatch/);
    await assert.rejects(r.startReadLoop(() => {}, { idleTimeoutMs: -1 }), /idleTimeoutMs/);
    const ac = new AbortController();
    ac.abort();
    assert.equal(await r.startReadLoop(() => {}, { signal: ac.signal }), 0);
  });

  it('a new writer and reader attached to a used ring resume where the old ones stopped', () => {
    const sab = createRing(512);
    const w1 = new RingWriter(sab);
    const r1 = new RingReader(sab);
    for (let i = 0; i < 10; i++) w1.write(1, i, 0, null);
    w1.flush();
    r1.drain(() => {}, 4);
    const w2 = new RingWriter(sab);
    const r2 = new RingReader(sab);
    w2.write(1, 10, 0, null);
    w2.flush();
    assert.deepEqual(
      collect(r2).map((g) => g.a),
      [4, 5, 6, 7, 8, 9, 10],
    );
    assert.equal(ringStats(sab).writtenRecords, 11);
    assert.equal(ringStats(sab).readRecords, 11);
  });
});
