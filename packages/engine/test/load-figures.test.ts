import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { LoadFigures } from '../src/load-figures.js';

test('a new thread\'s start (busy booting) does not count as load: its first figure is a baseline', async () => {
  // Busy for 300 ms as it starts (as a scene thread importing the game is), then idle.
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const end = Date.now() + 300; while (Date.now() < end) {}
     parentPort.postMessage('started');
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
