/**
 * Distance bands of entity replication (docs/aoi.md "Distance bands"), on a scene's thread
 * without sockets: a viewer hears its near cells on their topics and its far cells on their
 * FAR_CELL topics, where the fields declared with `farEvery` come at most every `farEvery`
 * ticks (the latest value), and everything else (enters, leaves, other fields) at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntityViewCodec, FAR_CELL, decodeCellFrame, farCell, framePayload, isFarCell, packCell, silentLogger, type CellFrame, type SceneEntitiesDef } from '@gos/schema';
import { FromScene, decodeEntityFrames } from '../src/records.js';
import { resolveInterest } from '../src/worker/interest-grid.js';
import { SceneReplication } from '../src/worker/replication.js';

const DEF: SceneEntitiesDef = {
  scene: 'field',
  push: 500,
  pushName: 'FieldCell',
  types: [
    {
      name: 'Avatar',
      fields: [
        { name: 'x', type: 'float32', quantize: 0.01, farEvery: 3 },
        { name: 'y', type: 'float32', quantize: 0.01, farEvery: 3 },
        { name: 'hp', type: 'uint16', quantize: null },
      ],
    },
  ],
};

interface Interest {
  /** Topic keys subscribed and dropped (FAR_CELL on far bands). */
  topicsAdd: number[];
  topicsRemove: number[];
  /** What the client is told, if anything: cells added and removed. */
  view: { add: number[]; remove: number[] } | null;
  snapshots: CellFrame[];
}

interface Out {
  /** Cell frames by topic key. */
  readonly cells: Map<number, CellFrame>;
  readonly interest: Map<number, Interest>;
}

/**
 * A 200 × 200 map of 10-unit cells; a view of radius 40 (hysteresis 4), near band within 10: a
 * viewer at the centre of a cell hears the 3 × 3 block around it near and the rest far.
 */
function setup(maxChangesPerCell?: number, def: SceneEntitiesDef = DEF): { rep: SceneReplication; flush: () => Out; present: Set<string> } {
  let cells = new Map<number, CellFrame>();
  let interest = new Map<number, Interest>();
  const present = new Set<string>();
  const out = (type: number, sid: number, payload: Uint8Array): void => {
    const r = decodeEntityFrames(payload);
    if (type === FromScene.CELLS) {
      r.frames.forEach((f, i) => cells.set(r.add[i]!, decodeCellFrame(DEF, framePayload(f))));
      return;
    }
    const first = r.frames[0];
    const isView = first !== undefined && first[2]! + (first[3]! << 8) !== DEF.push;
    const view = isView ? EntityViewCodec.decode(framePayload(first)) : null;
    interest.set(sid, {
      topicsAdd: [...r.add],
      topicsRemove: [...r.remove],
      view: view === null ? null : { add: view.add, remove: view.remove },
      snapshots: r.frames.slice(isView ? 1 : 0).map((f) => decodeCellFrame(DEF, framePayload(f))),
    });
  };
  const rep = new SceneReplication(def, resolveInterest({ cellSize: 10, width: 200, height: 200, viewRadius: 40, hysteresis: 4, nearRadius: 10, ...(maxChangesPerCell === undefined ? {} : { maxChangesPerCell }) }), { sceneId: 'field:1', out, logger: silentLogger, present: (id) => present.has(id) });
  let tick = 0;
  return {
    rep,
    present,
    flush: () => {
      cells = new Map();
      interest = new Map();
      rep.flush(++tick);
      return { cells, interest };
    },
  };
}

const player = (id: string, sid: number): { id: string; sid: number } => ({ id, sid });
const avatar = (x: number, y: number): { x: number; y: number; hp: number } => ({ x, y, hp: 100 });
const ids = (f: CellFrame | undefined): number[] => (f?.entities ?? []).map((c) => c.id);

test('a first view: near cells on their topics, far ones on FAR_CELL topics; the client is told plain cells', () => {
  const s = setup();
  s.present.add('p');
  s.rep.spawn('Avatar', avatar(105, 105), { player: player('p', 1) });
  const { interest } = s.flush();
  const v = interest.get(1)!;
  const near = v.topicsAdd.filter((k) => !isFarCell(k));
  const far = v.topicsAdd.filter(isFarCell);
  assert.equal(near.length, 9, 'the 3 × 3 block around the viewpoint is near');
  assert.ok(near.includes(packCell(10, 10)) && near.includes(packCell(9, 9)) && near.includes(packCell(11, 11)));
  assert.ok(far.length > 0 && far.includes(farCell(packCell(13, 10))) && !far.includes(farCell(packCell(10, 10))));
  assert.deepEqual(v.topicsRemove, []);
  assert.deepEqual([...v.view!.add].sort(), v.topicsAdd.map((k) => (k & ~FAR_CELL) >>> 0).sort(), 'the client hears of the same cells, without the band');
});

test('far band: farEvery fields at most every 3 ticks with the latest value, other fields, enters and leaves at once; the near band gets every change', () => {
  const s = setup();
  s.present.add('p');
  const me = s.rep.spawn('Avatar', avatar(105, 105), { player: player('p', 1) });
  const nearby = s.rep.spawn('Avatar', avatar(112, 105));
  const far = s.rep.spawn('Avatar', avatar(135, 105));
  s.flush(); // tick 1: the view, with snapshots
  const farKey = farCell(packCell(13, 10));
  const nearKey = packCell(11, 10);
  const sentX: Array<[number, number]> = [];
  for (let tick = 2; tick <= 9; tick++) {
    far.set({ x: 135 + tick / 10 });
    nearby.set({ x: 112 + tick / 10 });
    if (tick === 4) far.set({ hp: 50 });
    const { cells } = s.flush();
    assert.equal(cells.has(packCell(13, 10)), false, 'nobody hears the far cell near: no near frame');
    const n = cells.get(nearKey)!;
    assert.deepEqual(ids(n), [nearby.id], `tick ${tick}: the near cell's change every tick`);
    assert.ok(Math.abs(n.entities[0]!.values['x'] as number - (112 + tick / 10)) < 0.01);
    const f = cells.get(farKey);
    const change = f?.entities.find((c) => c.id === far.id);
    if (change?.values['x'] !== undefined) sentX.push([tick, change.values['x'] as number]);
    if (tick === 4) assert.equal(change?.values['hp'], 50, 'a field without farEvery goes at once');
    if (tick % 3 !== 0 && tick !== 4) assert.equal(f, undefined, `tick ${tick}: nothing due in the far band`);
  }
  assert.deepEqual(sentX.map(([t]) => t), [3, 6, 9], 'x went every 3rd tick');
  for (const [t, x] of sentX) assert.ok(Math.abs(x - (135 + t / 10)) < 0.01, 'with the value of its tick');
  assert.equal(me.alive, true);

  // A change before a quiet stretch is still sent at its turn, to the far band only.
  far.set({ y: 106 });
  s.flush(); // tick 10
  s.flush(); // tick 11
  const { cells } = s.flush(); // tick 12
  assert.ok(Math.abs((cells.get(farKey)!.entities.find((c) => c.id === far.id)!.values['y'] as number) - 106) < 0.01);
  assert.deepEqual([...cells.keys()], [farKey], 'no empty frame for the near band, nor for other cells');

  // Entering and leaving the far cell are at once, as in the near band.
  const comer = s.rep.spawn('Avatar', avatar(136, 106));
  const entered = s.flush().cells.get(farKey)!; // tick 13
  assert.deepEqual(entered.entities.map((c) => [c.id, c.enter]), [[comer.id, true]]);
  comer.remove();
  assert.deepEqual(s.flush().cells.get(farKey)!.leaves, [comer.id]); // tick 14
});

test('walking: a far cell coming near switches topics and gets a snapshot; one going far switches back without one', () => {
  const s = setup();
  s.present.add('p');
  const me = s.rep.spawn('Avatar', avatar(105, 105), { player: player('p', 1) });
  const other = s.rep.spawn('Avatar', avatar(135, 105));
  s.flush();
  other.set({ x: 135.5 }); // banded: not due at tick 2, so the far band has not had it
  me.set({ x: 125 }); // cell (13, 10) is now 5 away: near
  const { interest } = s.flush();
  const v = interest.get(1)!;
  const cell = packCell(13, 10);
  assert.ok(v.topicsRemove.includes(farCell(cell)) && v.topicsAdd.includes(cell), 'from its far topic to its near one');
  const snapshot = v.snapshots.find((f) => f.cellX === 13 && f.cellY === 10)!;
  assert.ok(Math.abs((snapshot.entities.find((c) => c.id === other.id)!.values['x'] as number) - 135.5) < 0.01, 'the snapshot brings the value the far band held back');
  // (9, 10) is now 35 away: far, without a snapshot (the client is up to date).
  const west = packCell(9, 10);
  assert.ok(v.topicsRemove.includes(west) && v.topicsAdd.includes(farCell(west)));
  assert.equal(v.snapshots.some((f) => f.cellX === 9 && f.cellY === 10), false);

  // From now on (13, 10) has its changes every tick, on its near topic.
  other.set({ x: 136 });
  const { cells } = s.flush();
  assert.deepEqual(ids(cells.get(cell)), [other.id]);
  assert.equal(cells.has(farCell(cell)), false);
});

test('a focused entity\'s cell is near however far; bands cost nothing once nobody hears: an emptied world holds no cell', () => {
  const s = setup();
  s.present.add('p');
  const viewer = player('p', 1);
  const me = s.rep.spawn('Avatar', avatar(105, 105), { player: viewer });
  const target = s.rep.spawn('Avatar', avatar(145, 105));
  s.flush();
  s.rep.focus(viewer, target);
  const v = s.flush().interest.get(1)!;
  assert.ok(v.topicsAdd.includes(packCell(14, 10)) && v.topicsRemove.includes(farCell(packCell(14, 10))), 'the focused cell moves to its near topic');
  target.set({ x: 146 });
  assert.deepEqual(ids(s.flush().cells.get(packCell(14, 10))), [target.id], 'and hears every change at once');
  target.set({ x: 147 }); // pending nowhere: nobody hears (14, 10) far
  s.rep.playerLeft('p');
  target.remove();
  s.flush();
  s.flush();
  assert.equal(me.alive, false);
  assert.equal(s.rep.cellsHeld, 0);
});

test('a cell heard near by one player and far by another: one frame per band; its far turn alone sends no near frame', () => {
  const s = setup();
  s.present.add('p').add('q');
  s.rep.spawn('Avatar', avatar(105, 105), { player: player('p', 1) });
  s.rep.spawn('Avatar', avatar(136, 105), { player: player('q', 2) });
  const walker = s.rep.spawn('Avatar', avatar(135, 105));
  s.flush(); // tick 1
  const cell = packCell(13, 10);
  walker.set({ x: 135.5, hp: 7 });
  const t2 = s.flush().cells; // tick 2: x not due in the far band, hp at once
  assert.deepEqual(t2.get(cell)!.entities.map((c) => [c.id, c.values['x'] !== undefined, c.values['hp']]), [[walker.id, true, 7]], 'near: everything');
  assert.deepEqual(t2.get(farCell(cell))!.entities.map((c) => [c.id, c.values['x'] !== undefined, c.values['hp']]), [[walker.id, false, 7]], 'far: hp only');
  const t3 = s.flush().cells; // tick 3: x's turn in the far band
  assert.deepEqual([...t3.keys()], [farCell(cell)], 'only the far band has something to send');
  assert.ok(Math.abs((t3.get(farCell(cell))!.entities[0]!.values['x'] as number) - 135.5) < 0.01);
});

test('a crowd in a far cell: its far frame keeps to the cell\'s cap of changes; the rest go at the next turns, each once, with its latest value', () => {
  const s = setup(4);
  s.present.add('p');
  s.rep.spawn('Avatar', avatar(105, 105), { player: player('p', 1) });
  const crowd = Array.from({ length: 10 }, (_, i) => s.rep.spawn('Avatar', avatar(131 + i * 0.5, 105)));
  s.flush(); // tick 1
  for (const e of crowd) e.set({ x: e.get('x') + 0.25 });
  const farKey = farCell(packCell(13, 10));
  const got = new Map<number, number>();
  const perTurn: number[] = [];
  for (let tick = 2; tick <= 12; tick++) {
    const f = s.flush().cells.get(farKey);
    if (f === undefined) continue;
    perTurn.push(f.entities.length);
    for (const c of f.entities) {
      assert.equal(got.has(c.id), false, `entity ${c.id} sent once`);
      got.set(c.id, c.values['x'] as number);
    }
  }
  assert.deepEqual(perTurn, [4, 4, 2], 'at ticks 3, 6 and 9');
  for (const e of crowd) assert.ok(Math.abs(got.get(e.id)! - e.get('x')) < 0.01);
});

test('a crowd moving every tick in a far cell: every member gets its turn in the far band, not only the ones the near band takes at due ticks', () => {
  const s = setup(2);
  s.present.add('p');
  s.rep.spawn('Avatar', avatar(105, 105), { player: player('p', 1) });
  const movers = Array.from({ length: 6 }, (_, i) => s.rep.spawn('Avatar', avatar(131 + i, 105)));
  s.flush();
  const farKey = farCell(packCell(13, 10));
  const sent = new Map<number, number>(movers.map((e) => [e.id, 0]));
  for (let tick = 2; tick <= 37; tick++) {
    for (const e of movers) e.set({ y: 105 + tick / 100 });
    for (const c of s.flush().cells.get(farKey)?.entities ?? []) if (c.values['y'] !== undefined) sent.set(c.id, sent.get(c.id)! + 1);
  }
  // 12 turns (every 3rd tick) of 2 entries: 24 in all, 4 each when shared out evenly.
  for (const [id, n] of sent) assert.ok(n >= 3, `entity ${id} sent ${n} times in the far band`);
});

test('a diagonal step of more than h / 2 works the bands out again: a cell now within nearRadius comes near', () => {
  const s = setup();
  s.present.add('p');
  const me = s.rep.spawn('Avatar', avatar(111.5, 111.5), { player: player('p', 1) });
  s.flush();
  const corner = packCell(12, 12);
  me.set({ x: 113.45, y: 113.45 }); // 1.95 on each axis (under h / 2 = 2), 2.76 in all; the cell's corner now 9.26 away
  const v = s.flush().interest.get(1)!;
  assert.ok(v.topicsAdd.includes(corner) && v.topicsRemove.includes(farCell(corner)), JSON.stringify(v));
});

test('nearRadius without any farEvery field: one band (a far one would save nothing); a bad farEvery is refused', () => {
  const plain: SceneEntitiesDef = { ...DEF, types: [{ name: 'Avatar', fields: DEF.types[0]!.fields.map((f) => ({ name: f.name, type: f.type, quantize: f.quantize })) }] };
  const s = setup(undefined, plain);
  s.present.add('p');
  s.rep.spawn('Avatar', avatar(105, 105), { player: player('p', 1) });
  const v = s.flush().interest.get(1)!;
  assert.ok(v.topicsAdd.length > 9 && v.topicsAdd.every((k) => !isFarCell(k)));
  for (const farEvery of [0, 2.5, 256]) {
    const bad: SceneEntitiesDef = { ...DEF, types: [{ name: 'Avatar', fields: [{ name: 'x', type: 'float32', quantize: null, farEvery }, { name: 'y', type: 'float32', quantize: null }] }] };
    assert.throws(() => setup(undefined, bad), /farEvery must be a whole number of ticks from 1 to 255/);
  }
});
