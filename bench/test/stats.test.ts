import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyRecorder, PendingInputs, round } from '../src/stats.js';

test('latency percentiles over 1..1000 ms are within the histogram precision', () => {
  const r = new LatencyRecorder();
  for (let ms = 1; ms <= 1000; ms++) r.record(ms);
  const s = r.summary();
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50Ms - 500) <= 5, `p50 ${s.p50Ms}`);
  assert.ok(Math.abs(s.p99Ms - 990) <= 10, `p99 ${s.p99Ms}`);
  assert.ok(Math.abs(s.maxMs - 1000) <= 10, `max ${s.maxMs}`);
  r.reset();
  assert.deepEqual(r.summary(), { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
});

test('latency: negative samples (clock skew) count as the smallest, huge ones are capped', () => {
  const r = new LatencyRecorder();
  r.record(-3);
  r.record(1e9);
  assert.equal(r.count, 2);
  assert.ok(r.summary().p50Ms <= 0.01);
  assert.ok(r.summary().maxMs <= 60_100);
});

test('pending inputs: one ack settles every queued seq up to it, in order', () => {
  const p = new PendingInputs();
  p.push(10, 100);
  p.push(20, 200);
  p.push(30, 300);
  const settled: number[] = [];
  p.ack(5, (t) => settled.push(t));
  assert.equal(settled.length, 0);
  p.ack(25, (t) => settled.push(t));
  assert.deepEqual(settled, [100, 200]);
  assert.equal(p.size, 1);
  p.ack(30, (t) => settled.push(t));
  assert.deepEqual(settled, [100, 200, 300]);
  assert.equal(p.size, 0);
});

test('pending inputs: a full queue drops the oldest and counts it', () => {
  const p = new PendingInputs(2);
  p.push(1, 1);
  p.push(2, 2);
  p.push(3, 3);
  assert.equal(p.dropped, 1);
  const settled: number[] = [];
  p.ack(3, (t) => settled.push(t));
  assert.deepEqual(settled, [2, 3]);
});

test('pending inputs: compaction keeps order over many pushes', () => {
  const p = new PendingInputs(8);
  const settled: number[] = [];
  for (let seq = 1; seq <= 5000; seq++) {
    p.push(seq, seq);
    if (seq % 3 === 0) p.ack(seq - 1, (t) => settled.push(t));
  }
  p.ack(5000, (t) => settled.push(t));
  assert.equal(settled.length, 5000);
  assert.ok(settled.every((t, i) => t === i + 1));
});

test('round', () => {
  assert.equal(round(1.23456), 1.235);
  assert.equal(round(1.5, 0), 2);
});
