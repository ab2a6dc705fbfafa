/**
 * Batched authoritative reads: a crowd asking for one key at once costs two reads, and every
 * caller gets a read that started after its own call.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadBatches } from '../src/read-batches.js';

/** A read whose answers the test releases by hand, in order. */
function manualReads(): { batches: ReadBatches<string, string>; started: string[]; finish(i: number, value: string | Error): void } {
  const started: string[] = [];
  const settle: Array<(v: string | Error) => void> = [];
  const batches = new ReadBatches<string, string>(
    (key) =>
      new Promise<string>((resolve, reject) => {
        started.push(key);
        settle.push((v) => (v instanceof Error ? reject(v) : resolve(v)));
      }),
  );
  return { batches, started, finish: (i, v) => settle[i]!(v) };
}

test('reads of one key asked for while one is in flight share the next read, which starts after the first ends', async () => {
  const { batches, started, finish } = manualReads();
  const first = batches.read('world:1');
  const crowd = Array.from({ length: 300 }, () => batches.read('world:1'));
  assert.deepEqual(started, ['world:1'], 'the crowd waits: its read must start after its call');
  finish(0, 'engine-1');
  assert.equal(await first, 'engine-1');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, ['world:1', 'world:1'], 'one more read for all 300');
  finish(1, 'engine-2');
  assert.deepEqual(new Set(await Promise.all(crowd)), new Set(['engine-2']));
  // Nothing in flight any more: the next caller starts a read of its own.
  const later = batches.read('world:1');
  assert.equal(started.length, 3);
  finish(2, 'engine-3');
  assert.equal(await later, 'engine-3');
});

test('keys are read apart, and a failed read fails its callers only', async () => {
  const { batches, started, finish } = manualReads();
  const a = batches.read('a');
  const b = batches.read('b');
  const a2 = batches.read('a');
  assert.deepEqual(started, ['a', 'b']);
  finish(0, new Error('etcd unavailable'));
  await assert.rejects(a, /etcd unavailable/);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(started, ['a', 'b', 'a'], 'the joiners get a read of their own after a failure');
  finish(2, 'A');
  finish(1, 'B');
  assert.equal(await a2, 'A');
  assert.equal(await b, 'B');
});
