/** The overflow in front of a ring (Outbox): order, bounds, and records it can never write. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError, ErrorCodes } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { Outbox } from '../src/outbox.js';
import { RingReader, createRing } from '../src/ring/index.js';

const isCode = (code: string) => (err: unknown): boolean => err instanceof CodedError && err.code === code;

test('a record too large for the ring is refused even while others wait in the overflow; the overflow drains in order', async () => {
  const sab = createRing(4096);
  const out = new Outbox(sab, 1 << 20);
  try {
    await refusesTooLargeBehindOthers(sab, out);
  } finally {
    out.close(); // ends its drain: a regression fails instead of hanging
  }
});

async function refusesTooLargeBehindOthers(sab: SharedArrayBuffer, out: Outbox): Promise<void> {
  const sent: number[] = [];
  // Nobody reads yet: the ring fills, and the rest waits in the overflow.
  for (let i = 0; out.pendingBytes === 0; i++) {
    out.send(1, i, 0, new Uint8Array(500));
    sent.push(i);
  }
  out.send(1, sent.length, 0, new Uint8Array(500));
  sent.push(sent.length);
  const waiting = out.pendingBytes;
  assert.ok(waiting > 0);

  assert.throws(() => out.send(1, 999, 0, new Uint8Array(out.maxPayloadBytes + 1)), isCode(ErrorCodes.ENG_ERR_RECORD_TOO_LARGE));
  assert.equal(out.pendingBytes, waiting, 'nothing queued for it');

  const reader = new RingReader(sab, { keepAlive: false });
  const got: number[] = [];
  await waitFor(
    () => {
      reader.drain((_type, sid) => {
        got.push(sid);
      });
      return got.length === sent.length;
    },
    { timeoutMs: 5000, message: 'every queued record to come out of the ring' },
  );
  assert.deepEqual(got, sent, 'in order, the refused one not among them');
  assert.equal(out.pendingBytes, 0);
}

test('a full overflow refuses with ENG_ERR_QUEUE_FULL, and keeps what it holds', () => {
  const sab = createRing(4096);
  const out = new Outbox(sab, 2048);
  assert.throws(() => {
    for (let i = 0; i < 100; i++) out.send(1, i, 0, new Uint8Array(500));
  }, isCode(ErrorCodes.ENG_ERR_QUEUE_FULL));
  assert.ok(out.pendingBytes > 0 && out.pendingBytes <= 2048);
  out.close();
});
