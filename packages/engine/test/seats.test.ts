/** PlayerSeats: what still refers to a connection's sid after it is gone (no new connection may take it). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PlayerSeats } from '../src/seats.js';

test('a sid is referred to while its hand-over is owed, its handed-over timers wait, or its last save is to be dropped', () => {
  const seats = new PlayerSeats();
  assert.equal(seats.refersTo(9), false);
  void seats.expectHandOver('p', 9, 'arena:1');
  assert.equal(seats.refersTo(9), true, 'hand-over owed');
  seats.answered(9, { total: 1 }, [{ name: 't', dueAt: 1, id: 'x', payload: 'null' }]);
  assert.equal(seats.refersTo(9), true, 'its timers wait for the travel target');
  assert.equal(seats.takeTimers(9)?.length, 1);
  assert.equal(seats.refersTo(9), false);

  seats.discardHandOver(7, 'arena:1');
  assert.equal(seats.refersTo(7), true, 'a save to drop');
  assert.equal(seats.takeDiscarded(7), true);
  assert.equal(seats.refersTo(7), false);
});

test("a crashed scene's saves to drop are forgotten with it, another scene's are not", () => {
  const seats = new PlayerSeats();
  seats.discardHandOver(7, 'arena:1');
  seats.discardHandOver(8, 'arena:2');
  seats.sceneLost('arena:1');
  assert.equal(seats.refersTo(7), false, 'arena:1 will never send it');
  assert.equal(seats.refersTo(8), true);
  assert.equal(seats.isDiscarded(8), true);
});
