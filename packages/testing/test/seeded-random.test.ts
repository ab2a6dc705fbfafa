import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../src/index.js';

test('seededRandom: one seed, one sequence in [0, 1); another seed, another sequence', () => {
  const draw = (seed: number): number[] => {
    const next = seededRandom(seed);
    return Array.from({ length: 1000 }, () => next());
  };
  const a = draw(7);
  assert.deepEqual(draw(7), a);
  assert.ok(a.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(draw(8), a);
  assert.ok(new Set(a).size > 990, 'no short cycle');
});
