/**
 * Entity replication on a scene's thread (docs/aoi.md), without sockets: what SceneReplication
 * writes for the main thread at each flush. A "client" here is a viewer and the cells it was
 * told to hear: it receives the CELLS frames of those cells, as a gateway's topics would give it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CELL_GONE, EntityViewCodec, ErrorCodes, decodeCellFrame, framePayload, isCodedError, packCell, type CellFrame, type SceneEntitiesDef } from '@gos/schema';
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
        { name: 'x', type: 'float32', quantize: 0.01 },
        { name: 'y', type: 'float32', quantize: 0.01 },
        { name: 'name', type: 'string', quantize: null },
        { name: 'hp', type: 'uint16', quantize: null },
      ],
    },
    { name: 'Loot', fields: [{ name: 'x', type: 'float32', quantize: null }, { name: 'y', type: 'float32', quantize: null }, { name: 'kind', type: 'uint8', quantize: null }] },
  ],
};

interface Out {
  readonly cells: Map<number, CellFrame>;
  readonly views: Map<number, { add: number[]; remove: number[]; snapshots: CellFrame[] }>;
}

/** A scene's replication on a 100 × 100 map of 10-unit cells, radius 10 (a 3 × 3 block), and what its last flush wrote. */
function setup(o: { maxChangesPerCell?: number } = {}): { rep: SceneReplication; flush: () => Out } {
  let cells = new Map<number, CellFrame>();
  let views = new Map<number, { add: number[]; remove: number[]; snapshots: CellFrame[] }>();
  const rep = new SceneReplication(DEF, resolveInterest({ cellSize: 10, width: 100, height: 100, viewRadius: 10, hysteresis: 5, ...o }), 'field:1', (type, sid, payload) => {
    const r = decodeEntityFrames(payload);
    if (type === FromScene.CELLS) {
      r.frames.forEach((f, i) => cells.set(r.add[i]!, decodeCellFrame(DEF, framePayload(f))));
      return;
    }
    const view = EntityViewCodec.decode(framePayload(r.frames[0]!));
    assert.deepEqual([view.sceneId, view.add, view.remove], ['field:1', [...r.add], [...r.remove]]);
    views.set(sid, { add: [...r.add], remove: [...r.remove], snapshots: r.frames.slice(1).map((f) => decodeCellFrame(DEF, framePayload(f))) });
  });
  let tick = 0;
  return {
    rep,
    flush: () => {
      cells = new Map();
      views = new Map();
      rep.flush(++tick);
      return { cells, views };
    },
  };
}

const player = (id: string, sid: number): { id: string; sid: number } => ({ id, sid });
const avatar = (x: number, y: number, name = 'a'): { x: number; y: number; name: string; hp: number } => ({ x, y, name, hp: 100 });

test('a viewer hears the cells around its viewpoint, with a snapshot of each cell that holds entities', () => {
  const { rep, flush } = setup();
  rep.spawn('Loot', { x: 44, y: 44, kind: 3 });
  rep.spawn('Loot', { x: 95, y: 95, kind: 4 }); // far away
  flush(); // nobody hears anything: no cell frame at all
  const ann = rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: player('ann', 7) });
  const out = flush();
  const view = out.views.get(7)!;
  assert.equal(view.add.length, 9);
  assert.deepEqual(view.remove, []);
  const seen = view.snapshots.flatMap((f) => f.entities.map((e) => [e.type, e.id, e.enter]));
  assert.deepEqual(seen.sort(), [['Avatar', ann.id, true], ['Loot', 1, true]].sort());
  const loot = view.snapshots.flatMap((f) => f.entities).find((e) => e.type === 'Loot')!;
  assert.deepEqual(loot.values, { x: 44, y: 44, kind: 3 });
  assert.ok(!out.views.has(8));
});

test('a field change reaches exactly the cells heard, as a delta of the changed fields; quantised positions round-trip', () => {
  const { rep, flush } = setup();
  const ann = rep.spawn('Avatar', avatar(15, 15, 'ann'), { player: player('ann', 1) });
  const bob = rep.spawn('Avatar', avatar(85, 85, 'bob'), { player: player('bob', 2) });
  flush();
  ann.set({ hp: 90 });
  bob.set({ hp: 80 });
  const out = flush();
  // Both cells are heard (by their own viewers): each delta once, with hp only.
  assert.equal(out.cells.size, 2);
  const annCell = out.cells.get(packCell(1, 1))!;
  assert.deepEqual(annCell.entities, [{ type: 'Avatar', id: ann.id, enter: false, values: { hp: 90 } }]);
  ann.set({ x: 16.257 });
  const moved = flush().cells.get(packCell(1, 1))!;
  assert.equal(moved.entities[0]!.enter, false);
  assert.ok(Math.abs((moved.entities[0]!.values['x'] as number) - 16.26) < 1e-9, 'quantised to 0.01');
  assert.deepEqual(Object.keys(moved.entities[0]!.values), ['x']);
  // Setting a field to its current value sends nothing.
  ann.set({ hp: 90 });
  assert.equal(flush().cells.size, 0);
});

test('crossing into another cell: a leave naming the new cell in the old one, an enter with every field in the new one; removal: leave once, to nowhere', () => {
  const { rep, flush } = setup();
  rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: player('ann', 1) });
  const loot = rep.spawn('Loot', { x: 51, y: 55, kind: 1 });
  flush();
  loot.set({ x: 49 });
  const out = flush();
  const from = out.cells.get(packCell(5, 5))!;
  const to = out.cells.get(packCell(4, 5))!;
  assert.deepEqual([from.leaves, from.leaveTo], [[loot.id], [packCell(4, 5)]]);
  assert.deepEqual(to.entities, [{ type: 'Loot', id: loot.id, enter: true, values: { x: 49, y: 55, kind: 1 } }]);
  loot.remove();
  loot.remove();
  const gone = flush().cells.get(packCell(4, 5))!;
  assert.deepEqual([gone.leaves, gone.leaveTo, gone.entities], [[loot.id], [CELL_GONE], []]);
  assert.equal(flush().cells.size, 0, 'the leave is sent once');
  assert.equal(rep.get(loot.id), undefined);
  assert.throws(() => loot.set({ kind: 2 }), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID);
  // Its id is free again only now that its leave is out.
  assert.equal(rep.spawn('Loot', { x: 1, y: 1, kind: 1 }).id, loot.id);
});

test('the viewer walks: new cells come with snapshots, cells left behind are dropped, with hysteresis', () => {
  const { rep, flush } = setup();
  const ann = rep.spawn('Avatar', avatar(15, 55, 'ann'), { player: player('ann', 1) });
  rep.spawn('Loot', { x: 45, y: 55, kind: 9 });
  flush();
  ann.set({ x: 25 }); // into cell (2,5): (3,*) come into range; (0,5) is 15 away: kept; (0,4) and (0,6) at 15.8: dropped
  let view = flush().views.get(1)!;
  assert.deepEqual(view.remove.sort(), [packCell(0, 4), packCell(0, 6)]);
  assert.ok(view.add.includes(packCell(3, 5)));
  ann.set({ x: 35 }); // into (3,5): (4,*) come in with the loot's snapshot; (0,*) at 25: dropped; (1,*) at 15: kept
  view = flush().views.get(1)!;
  assert.ok(view.add.includes(packCell(4, 5)));
  assert.deepEqual(view.snapshots.flatMap((f) => f.entities.map((e) => e.type)), ['Loot']);
  assert.ok(view.remove.includes(packCell(0, 5)) && !view.remove.includes(packCell(1, 5)));
  ann.set({ x: 29 }); // back over the edge: (4,*) are 11 away, within 15: nothing changes
  assert.equal(flush().views.size, 0);
});

test('maxChangesPerCell: a crowd in one cell sends at most the cap a tick, the longest waiting first, and every change arrives', () => {
  const { rep, flush } = setup({ maxChangesPerCell: 4 });
  rep.spawn('Avatar', avatar(55, 55, 'watcher'), { player: player('w', 1) });
  const crowd = Array.from({ length: 10 }, (_, i) => rep.spawn('Loot', { x: 52 + i * 0.1, y: 55, kind: 0 }));
  flush();
  for (const l of crowd) l.set({ kind: 1 });
  const sent: number[][] = [];
  for (let i = 0; i < 3; i++) sent.push((flush().cells.get(packCell(5, 5))?.entities ?? []).map((e) => e.id));
  assert.deepEqual(sent.map((s) => s.length), [4, 4, 2]);
  assert.deepEqual(sent.flat(), crowd.map((l) => l.id), 'in the order they changed, each once');
});

test('a player leaving removes its viewpoint entity; a viewpoint removed while the player stays unsubscribes it from every cell', () => {
  const { rep, flush } = setup();
  const ann = rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: player('ann', 1) });
  const bobPlayer = player('bob', 2);
  const bob = rep.spawn('Avatar', avatar(56, 55, 'bob'), { player: bobPlayer });
  flush();
  assert.equal(rep.of(bobPlayer), bob);
  rep.playerLeft('bob');
  let out = flush();
  assert.deepEqual(out.cells.get(packCell(5, 5))!.leaves, [bob.id], 'ann hears bob leave');
  assert.equal(rep.of(bobPlayer), undefined);
  ann.remove();
  // ann's view is dropped at once (before the flush): her cells are removed in one INTEREST.
  out = flush();
  assert.equal(out.cells.size, 0, 'nobody hears the cell any more: no frame for the leave');
  assert.throws(() => rep.spawn('Nope', {}), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID);
  assert.throws(() => rep.spawn('Loot', { x: 1, y: 1 }), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD);
  assert.throws(() => rep.spawn('Loot', { x: 1, y: 1, kind: 300 }), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD);
  assert.throws(() => rep.spawn('Loot', { x: 1, y: Number.NaN, kind: 1 }), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD);
});

test('mass join: a hundred viewers entering one place share one snapshot per cell', () => {
  const { rep, flush } = setup();
  rep.spawn('Loot', { x: 55, y: 55, kind: 1 });
  flush();
  for (let i = 0; i < 100; i++) rep.spawn('Avatar', avatar(55, 55, `p${i}`), { player: player(`p${i}`, 100 + i) });
  const out = flush();
  assert.equal(out.views.size, 100);
  const own = out.views.get(100)!.snapshots.find((f) => f.cellX === 5 && f.cellY === 5)!;
  assert.equal(own.entities.length, 101, 'the loot and the hundred avatars, all entering');
});
