import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TICK_GRID_TOLERANCE_MS, tickGridAtOrAfter } from '../src/index.js';

test('tickGridAtOrAfter: the first multiple of tickMs at or after a time; a point just passed within the tolerance counts as on it', () => {
  assert.equal(tickGridAtOrAfter(1234, 100), 1300);
  assert.equal(tickGridAtOrAfter(1300, 100), 1300, 'on a point: that point');
  assert.equal(tickGridAtOrAfter(1300 + TICK_GRID_TOLERANCE_MS / 2, 100), 1300, 'within the tolerance past it: still that point');
  assert.equal(tickGridAtOrAfter(1300 + TICK_GRID_TOLERANCE_MS * 2, 100), 1400);
  assert.equal(tickGridAtOrAfter(1, 16), 16);
});

test('tickGridAtOrAfter at epoch magnitudes: a time computed to fall on a point survives the rounding of a double', () => {
  // 1_700_000_000_000 is a multiple of 16; a double near it resolves to about 0.24 µs.
  const point = 1_700_000_000_000;
  assert.equal(tickGridAtOrAfter(point + 11, 16), point + 16);
  const origin = point - 1234.567;
  // origin + (point - origin) need not equal point exactly in doubles.
  assert.equal(tickGridAtOrAfter(origin + (point - origin), 16), point);
  // A fractional interval (60 Hz).
  const t = 1000 / 60;
  const k = Math.ceil(point / t);
  assert.equal(tickGridAtOrAfter(k * t, t), k * t);
});
