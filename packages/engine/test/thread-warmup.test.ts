import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadWarmup } from '../src/thread-warmup.js';
import { isWarmMessage, tellWarm } from '../src/warm-records.js';

test('wait resolves once every thread said its import settled, with the failures', async () => {
  const warmup = new ThreadWarmup();
  const waiting = warmup.wait(3, 10_000);
  tellWarm(warmup.channelName);
  tellWarm(warmup.channelName, new Error('Cannot find module /nowhere/game.js'));
  tellWarm(warmup.channelName);
  const outcome = await waiting;
  assert.equal(outcome.warm, 2);
  assert.deepEqual(outcome.failed, ['Cannot find module /nowhere/game.js']);
  assert.equal(outcome.timedOut, false);
});

test('a thread that never says so: wait gives up after its timeout and says so', async () => {
  const warmup = new ThreadWarmup();
  const waiting = warmup.wait(2, 50);
  tellWarm(warmup.channelName);
  const outcome = await waiting;
  assert.equal(outcome.warm, 1);
  assert.equal(outcome.timedOut, true);
});

test('messages that are not a thread\'s warm-up message are ignored', async () => {
  assert.equal(isWarmMessage({ ok: true }), true);
  assert.equal(isWarmMessage({ ok: false, error: 'boom' }), true);
  for (const junk of [null, 1, 'ok', {}, { ok: 'yes' }, { ok: false }, { ok: false, error: 3 }]) assert.equal(isWarmMessage(junk), false, JSON.stringify(junk));
  const warmup = new ThreadWarmup();
  const waiting = warmup.wait(1, 10_000);
  const { BroadcastChannel } = await import('node:worker_threads');
  const stranger = new BroadcastChannel(warmup.channelName);
  stranger.postMessage({ hello: 'world' });
  stranger.close();
  tellWarm(warmup.channelName);
  const outcome = await waiting;
  assert.deepEqual({ warm: outcome.warm, failed: outcome.failed }, { warm: 1, failed: [] });
});

test('an abort ends the wait at once (the engine closed while its threads started)', async () => {
  const warmup = new ThreadWarmup();
  const abort = new AbortController();
  const waiting = warmup.wait(2, 60_000, abort.signal);
  abort.abort();
  const outcome = await waiting;
  assert.deepEqual({ warm: outcome.warm, timedOut: outcome.timedOut }, { warm: 0, timedOut: false });
});
