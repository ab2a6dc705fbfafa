import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../src/index.js';

test('waitFor resolves with the first truthy result of the condition', async () => {
  let checks = 0;
  const value = await waitFor(() => (++checks >= 3 ? { checks } : null), { intervalMs: 1 });
  assert.deepEqual(value, { checks: 3 });
});

test('waitFor awaits an async condition', async () => {
  let n = 0;
  assert.equal(await waitFor(async () => (++n === 2 ? 'ready' : ''), { intervalMs: 1 }), 'ready');
});

test('waitFor times out with its message and the time it waited', async () => {
  await assert.rejects(waitFor(() => false, { timeoutMs: 30, message: 'the engine to register' }), /timed out after 30 ms waiting for the engine to register$/);
});

test('a condition that throws is not met yet; its last error is the timeout\'s cause', async () => {
  let calls = 0;
  const ok = await waitFor(
    () => {
      if (++calls < 3) throw new Error('not yet');
      return true;
    },
    { intervalMs: 1 },
  );
  assert.equal(ok, true);
  await assert.rejects(
    waitFor(
      () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 20, message: 'etcd' },
    ),
    (err: Error) => /waiting for etcd; last error: connection refused$/.test(err.message) && err.cause instanceof Error,
  );
});
