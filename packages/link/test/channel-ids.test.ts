import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelIds, MAX_CHANNEL_ID } from '../src/index.js';

test('channel ids count up from 1 and wrap to 1 after MAX_CHANNEL_ID', () => {
  const ids = new ChannelIds();
  assert.deepEqual([ids.take(() => false), ids.take(() => false)], [1, 2]);
  const near = new ChannelIds(MAX_CHANNEL_ID - 1);
  assert.deepEqual([near.take(() => false), near.take(() => false), near.take(() => false)], [MAX_CHANNEL_ID - 1, MAX_CHANNEL_ID, 1]);
});

test('a wrapped channel id skips the ids still in use', () => {
  const live = new Set([MAX_CHANNEL_ID, 1, 2, 4]);
  const ids = new ChannelIds(MAX_CHANNEL_ID);
  const a = ids.take((id) => live.has(id));
  live.add(a);
  const b = ids.take((id) => live.has(id));
  assert.deepEqual([a, b], [3, 5]);
});

test('a first channel id outside 1..MAX_CHANNEL_ID is refused', () => {
  for (const bad of [0, -1, 1.5, MAX_CHANNEL_ID + 1, Number.NaN]) assert.throws(() => new ChannelIds(bad), RangeError);
});
