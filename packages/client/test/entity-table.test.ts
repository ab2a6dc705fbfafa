/**
 * The SDK's entity table (docs/aoi.md) fed frames by hand: views and cell frames as the engine
 * encodes them, in the orders a client may receive them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CELL_GONE, ErrorCodes, cellCodec, isCodedError, packCell, type CellFrame, type EntityChange, type Protocol, type SceneEntitiesDef } from '@gos/schema';
import { EntityTable, type EntitySource } from '../src/index.js';

const DEF: SceneEntitiesDef = {
  scene: 'field',
  push: 500,
  pushName: 'FieldCell',
  types: [
    { name: 'Avatar', fields: [{ name: 'x', type: 'float32', quantize: null }, { name: 'y', type: 'float32', quantize: null }, { name: 'hp', type: 'uint16', quantize: null }] },
    { name: 'Other', fields: [{ name: 'x', type: 'float32', quantize: null }, { name: 'y', type: 'float32', quantize: null }] },
  ],
};
const codec = cellCodec(DEF);

/** A push source the test drives: each push goes through its codec, as the client's would. */
function source(): EntitySource & { push(name: string, payload: unknown): void } {
  const listeners = new Map<string, ((p: never) => void)[]>();
  const protocol = { namespace: 'fixture', entities: { field: DEF } } as unknown as Protocol;
  return {
    protocol,
    onPush(name: never, listener: (payload: never) => void) {
      listeners.set(name, [...(listeners.get(name) ?? []), listener]);
      return () => listeners.set(name, (listeners.get(name) ?? []).filter((l) => l !== listener));
    },
    push(name, payload) {
      const value = name === DEF.pushName ? codec.decode(codec.encode(payload as CellFrame)) : payload;
      for (const l of listeners.get(name) ?? []) l(value as never);
    },
  };
}

const A = packCell(1, 1);
const B = packCell(2, 1);
const C = packCell(9, 9);
const enter = (id: number, x: number, hp = 100): EntityChange => ({ type: 'Avatar', id, enter: true, values: { x, y: 15, hp } });
const cell = (key: number, entities: EntityChange[], leaves: [number, number][] = [], tick = 1): CellFrame => ({
  tick,
  cellX: key & 0xffff,
  cellY: key >>> 16,
  entities,
  leaves: leaves.map(([id]) => id),
  leaveTo: leaves.map(([, to]) => to),
});

function watch(table: EntityTable): string[] {
  const log: string[] = [];
  table.onEnter((e) => log.push(`enter ${e.id}`));
  table.onUpdate((e, changed) => log.push(`update ${e.id} ${changed.join(',')}`));
  table.onLeave((e) => log.push(`leave ${e.id}`));
  return log;
}

test('a view with snapshots fills the table; deltas update; a leave to nowhere removes, once', () => {
  const s = source();
  const table = new EntityTable(s);
  const log = watch(table);
  s.push('EntityView', { sceneId: 'field:1', cellSize: 10, add: [A, B], remove: [] });
  s.push('FieldCell', cell(A, [enter(1, 15), enter(2, 16)]));
  assert.equal(table.size, 2);
  assert.equal(table.sceneId, 'field:1');
  s.push('FieldCell', cell(A, [{ type: 'Avatar', id: 1, enter: false, values: { hp: 50 } }], [], 2));
  assert.deepEqual(table.get(1)!.values, { x: 15, y: 15, hp: 50 });
  s.push('FieldCell', cell(A, [], [[2, CELL_GONE]], 3));
  s.push('FieldCell', cell(A, [], [[2, CELL_GONE]], 4));
  assert.deepEqual(log, ['enter 1', 'enter 2', 'update 1 hp', 'leave 2']);
});

test('moving between two heard cells is one update whichever frame comes first; into a cell not heard, a leave', () => {
  for (const enterFirst of [true, false]) {
    const s = source();
    const table = new EntityTable(s);
    const log = watch(table);
    s.push('EntityView', { sceneId: 'field:1', cellSize: 10, add: [A, B], remove: [] });
    s.push('FieldCell', cell(A, [enter(1, 15)]));
    const leaveA = cell(A, [], [[1, B]], 2);
    const enterB = cell(B, [enter(1, 21)], [], 2);
    for (const f of enterFirst ? [enterB, leaveA] : [leaveA, enterB]) s.push('FieldCell', f);
    assert.deepEqual(log, ['enter 1', 'update 1 x,y,hp'], `enter first: ${enterFirst}`);
    assert.equal(table.get(1)!.cell, B);
    s.push('FieldCell', cell(B, [], [[1, C]], 3));
    assert.deepEqual(log.at(-1), 'leave 1');
    assert.equal(table.size, 0);
  }
});

test('cells no longer heard take their entities with them; a new scene, SceneChanged or a restart empties the table', () => {
  const s = source();
  const table = new EntityTable(s);
  const log = watch(table);
  s.push('EntityView', { sceneId: 'field:1', cellSize: 10, add: [A, B], remove: [] });
  s.push('FieldCell', cell(A, [enter(1, 15)]));
  s.push('FieldCell', cell(B, [enter(2, 25)]));
  s.push('EntityView', { sceneId: 'field:1', cellSize: 10, add: [], remove: [A] });
  assert.deepEqual(log, ['enter 1', 'enter 2', 'leave 1']);
  assert.deepEqual([...table.cells], [B]);
  s.push('SceneChanged', { from: 'field:1', to: 'field:2' });
  assert.equal(table.size, 0);
  assert.deepEqual([...table.cells], []);
  s.push('EntityView', { sceneId: 'field:2', cellSize: 10, add: [A], remove: [] });
  s.push('FieldCell', cell(A, [enter(7, 15)]));
  s.push('SceneRestarted', { sceneId: 'field:2', reason: 'crash' });
  assert.deepEqual(log.slice(3), ['leave 2', 'enter 7', 'leave 7']);
});

test('interpolate: numeric fields between the last two values, others as last received', () => {
  let now = 1000;
  const s = source();
  const table = new EntityTable(s, { now: () => now });
  s.push('EntityView', { sceneId: 'field:1', cellSize: 10, add: [A], remove: [] });
  s.push('FieldCell', cell(A, [enter(1, 10)]));
  now = 1100;
  s.push('FieldCell', cell(A, [{ type: 'Avatar', id: 1, enter: false, values: { x: 20 } }], [], 2));
  const e = table.get(1)!;
  now = 1150;
  assert.deepEqual(table.interpolate(e, 100), { x: 15, y: 15, hp: 100 }, 'half way, 100 ms in the past');
  assert.equal(table.interpolate(e, 0)['x'], 20, 'never past the last value');
});

test('a protocol without entities cannot have a table', () => {
  const s = { protocol: { namespace: 'none' } as Protocol, onPush: () => () => undefined } as unknown as EntitySource;
  assert.throws(() => new EntityTable(s), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID);
});

test('a reset view forgets everything first; frames of cells not heard are ignored; an id given to another type is a leave and an enter', () => {
  const s = source();
  const table = new EntityTable(s);
  const log = watch(table);
  s.push('EntityView', { sceneId: 'field:1', cellSize: 10, add: [A], remove: [], reset: true });
  s.push('FieldCell', cell(A, [enter(1, 15)]));
  s.push('FieldCell', cell(B, [enter(2, 25)])); // B is not heard: a lingering topic
  assert.deepEqual(log, ['enter 1']);
  // A new connection: the server starts the view again.
  s.push('EntityView', { sceneId: 'field:1', cellSize: 10, add: [B], remove: [], reset: true });
  assert.deepEqual(log, ['enter 1', 'leave 1']);
  assert.deepEqual([...table.cells], [B]);
  s.push('FieldCell', cell(B, [enter(3, 25)]));
  s.push('FieldCell', cell(B, [{ type: 'Other', id: 3, enter: true, values: { x: 25, y: 15 } }]));
  assert.deepEqual(log.slice(2), ['enter 3', 'leave 3', 'enter 3']);
  assert.equal(table.get(3)!.type, 'Other');
});

test('a callback that throws does not stop the others or the rest of the frame; the error is thrown after', () => {
  const s = source();
  const table = new EntityTable(s);
  const seen: number[] = [];
  table.onEnter((e) => {
    if (e.id === 1) throw new Error('game bug');
    seen.push(e.id);
  });
  s.push('EntityView', { sceneId: 'field:1', cellSize: 10, add: [A], remove: [] });
  assert.throws(() => s.push('FieldCell', cell(A, [enter(1, 15), enter(2, 16)])), /game bug/);
  assert.deepEqual(seen, [2]);
  assert.equal(table.size, 2, 'both entities are in the table');
});
