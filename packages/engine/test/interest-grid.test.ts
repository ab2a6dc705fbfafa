/**
 * The interest grid (docs/aoi.md): cells around a point, hysteresis at cell edges, the cap on
 * cells (nearest first), teleports, and positions at and beyond the map's edges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes, cellX, cellY, isCodedError, packCell } from '@gos/schema';
import { InterestGrid, resolveInterest } from '../src/worker/interest-grid.js';

const grid = (o: Partial<Parameters<typeof resolveInterest>[0]> = {}): InterestGrid => new InterestGrid(resolveInterest({ cellSize: 10, width: 100, height: 100, viewRadius: 10, hysteresis: 5, ...o }));
const xy = (cells: Iterable<number>): string[] => [...cells].map((c) => `${cellX(c)},${cellY(c)}`).sort();

test('a position belongs to one cell; positions off the map count in its edge cells', () => {
  const g = grid();
  assert.equal(g.cellOf(0, 0), packCell(0, 0));
  assert.equal(g.cellOf(15, 27), packCell(1, 2));
  assert.equal(g.cellOf(99.9, 99.9), packCell(9, 9));
  assert.equal(g.cellOf(100, 100), packCell(9, 9), 'the far edge belongs to the last cell');
  assert.equal(g.cellOf(-50, 1e9), packCell(0, 9));
});

test('a viewer hears the cells within its radius, nearest first; at a corner of the map only those on the map', () => {
  const g = grid();
  const centre = g.view(55, 55, new Set());
  assert.ok(centre !== null);
  assert.equal(centre.add[0], packCell(5, 5), 'its own cell first');
  // Radius 10 from the middle of a 10-unit cell reaches the 8 neighbours (their corners at 7.07), not the cells two away (at 15).
  assert.deepEqual(xy(centre.add), ['4,4', '4,5', '4,6', '5,4', '5,5', '5,6', '6,4', '6,5', '6,6']);
  const corner = g.view(1, 1, new Set());
  assert.deepEqual(xy(corner!.add), ['0,0', '0,1', '1,0']);
  assert.deepEqual(corner!.remove, []);
});

test('hysteresis: stepping back and forth over a cell edge changes nothing; going farther drops the cells left behind', () => {
  const g = grid({ viewRadius: 10, hysteresis: 5 });
  const cells = new Set(g.view(55, 55, new Set())!.add);
  const heard = new Set(cells);
  // One step east over the edge at x = 60: cells come into range, none is dropped.
  const east = g.view(61, 55, heard)!;
  assert.deepEqual(east.remove, [], 'nothing dropped within the leave radius');
  for (const c of east.add) heard.add(c);
  // And back west: every cell heard is within view + hysteresis: no change at all.
  assert.equal(g.view(59, 55, heard), null, 'no churn at the edge');
  assert.equal(g.view(61, 55, heard), null);
  // Far east: the cells west of x = 70 are beyond 15 now (those at exactly 15 stay).
  const far = g.view(85, 55, heard)!;
  assert.ok(far.remove.includes(packCell(4, 5)) && far.remove.includes(packCell(5, 5)));
  assert.ok(!far.remove.includes(packCell(6, 5)) && !far.remove.includes(packCell(7, 5)));
});

test('a teleport costs the cells of two places, never the map: everything old is dropped, the new place is added', () => {
  const g = grid({ width: 10_000, height: 10_000 });
  const before = new Set(g.view(55, 55, new Set())!.add);
  const jump = g.view(9005, 9005, before)!;
  assert.deepEqual(xy(jump.remove), xy(before));
  assert.equal(jump.add.length, before.size);
  assert.equal(jump.add[0], packCell(900, 900));
});

test('maxCells caps what a viewer hears, keeping the nearest', () => {
  const g = grid({ viewRadius: 30, maxCells: 5 });
  const v = g.view(55, 55, new Set())!;
  assert.equal(v.add.length, 5);
  assert.equal(v.add[0], packCell(5, 5));
  // The four at distance 0 from the edges of the own cell's neighbours come next (the 4 side neighbours).
  assert.deepEqual(xy(v.add.slice(1)), ['4,5', '5,4', '5,6', '6,5']);
});

test('bad interest options are OPT_ERR_INVALID naming the option', () => {
  const bad = (o: object, name: string): void => {
    assert.throws(
      () => resolveInterest({ cellSize: 10, width: 100, height: 100, ...o }),
      (err: unknown) => isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID && err.message.includes(name),
    );
  };
  bad({ cellSize: 0 }, 'cellSize');
  bad({ width: -1 }, 'width');
  bad({ height: Number.NaN }, 'height');
  bad({ viewRadius: 0 }, 'viewRadius');
  bad({ hysteresis: -1 }, 'hysteresis');
  bad({ maxCells: 1.5 }, 'maxCells');
  bad({ maxChangesPerCell: 0 }, 'maxChangesPerCell');
  bad({ cellSize: 1, width: 1e9 }, 'cellSize');
});

test('distance bands: a cell is far beyond nearRadius + hysteresis / 2, or, once near, beyond nearRadius + hysteresis; without nearRadius nothing is far', () => {
  const g = grid({ viewRadius: 40, hysteresis: 4, nearRadius: 10 });
  const east = packCell(7, 5);
  const never = (): boolean => false;
  const always = (): boolean => true;
  // From (55, 55) the cell (7, 5) starts 15 away, (6, 5) 5 away.
  assert.deepEqual(xy(g.farOf(55, 55, [east, packCell(6, 5)], never)), ['7,5']);
  // 13 away: within the keep radius (14) but not the take radius (12): it stays what it was.
  assert.deepEqual(xy(g.farOf(57, 55, [east], never)), ['7,5']);
  assert.deepEqual(xy(g.farOf(57, 55, [east], always)), []);
  // 11 away: near either way; 15 away: far either way.
  assert.deepEqual(xy(g.farOf(59, 55, [east], never)), []);
  assert.deepEqual(xy(g.farOf(55, 55, [east], always)), ['7,5']);
  assert.equal(grid({ viewRadius: 40 }).farOf(55, 55, [east, packCell(0, 0)], never).size, 0);
  assert.equal(grid({ nearRadius: 0 }).farOf(55, 55, [packCell(5, 5), packCell(6, 5)], never).size, 1, 'nearRadius 0: only the viewpoint\'s own cell is near');
  for (const nearRadius of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => grid({ nearRadius }), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID && /interest\.nearRadius/.test(err.message));
  }
});
