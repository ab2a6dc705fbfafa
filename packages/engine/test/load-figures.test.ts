import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { LoadFigures } from '../src/load-figures.js';

test('a new thread\'s start (busy booting) does not count as load: its first figure is a baseline', async () => {
  // Busy with a fixed amount of work as it starts (as a scene thread importing the game is), then idle.
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     let x = 0; for (let i = 0; i < 2e8; i++) x = (x + i) % 1000003;
     parentPort.postMessage(x);
     setInterval(() => {}, 1000);`,
    { eval: true },
  );
  try {
    await once(worker, 'message');
    assert.ok(worker.performance.eventLoopUtilization().utilization > 0.5, 'its lifetime so far is mostly busy');
    const figures = new LoadFigures();
    const first = figures.next([worker], { 'arena:1': 0 });
    assert.equal(first?.utilisation, 0);
  } finally {
    await worker.terminate();
  }
});

test('scene costs are published with the other figures, rounded, and again only once one moved by 0.05 of a thread', () => {
  const figures = new LoadFigures();
  const first = figures.next([], { 'arena:1': 3, 'arena:2': 0 }, { 'arena:1': 0.4213, 'arena:2': 0.001 });
  assert.deepEqual(first?.sceneCosts, { 'arena:1': 0.42, 'arena:2': 0 });
  assert.equal(first?.threads, 0);
  assert.equal(figures.next([], { 'arena:1': 3, 'arena:2': 0 }, { 'arena:1': 0.45, 'arena:2': 0.02 }), null, 'small moves: nothing new');
  assert.deepEqual(figures.next([], { 'arena:1': 3, 'arena:2': 0 }, { 'arena:1': 0.48, 'arena:2': 0.02 })?.sceneCosts, { 'arena:1': 0.48, 'arena:2': 0.02 });
});
