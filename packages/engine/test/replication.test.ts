/**
 * Entity replication on a scene's thread (docs/aoi.md), without sockets: what SceneReplication
 * writes for the main thread at each flush. A "client" here is a viewer and the cells it was
 * told to hear: it receives the CELLS frames of those cells, as a gateway's topics would give it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CELL_GONE, CodedError, EntityViewCodec, ErrorCodes, decodeCellFrame, framePayload, isCodedError, packCell, silentLogger, type CellFrame, type SceneEntitiesDef } from '@gos/schema';
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

interface View {
  add: number[];
  remove: number[];
  reset: boolean;
  snapshots: CellFrame[];
}

interface Out {
  readonly cells: Map<number, CellFrame>;
  readonly views: Map<number, View>;
}

/** A scene's replication on a 100 × 100 map of 10-unit cells, radius 10 (a 3 × 3 block), and what its last flush wrote. */
function setup(o: { maxChangesPerCell?: number; maxCells?: number; hysteresis?: number; failWrites?: () => boolean } = {}): { rep: SceneReplication; flush: () => Out; present: Set<string> } {
  let cells = new Map<number, CellFrame>();
  let views = new Map<number, View>();
  const present = new Set<string>();
  const interest = resolveInterest({ cellSize: 10, width: 100, height: 100, viewRadius: 10, hysteresis: o.hysteresis ?? 5, ...(o.maxChangesPerCell === undefined ? {} : { maxChangesPerCell: o.maxChangesPerCell }), ...(o.maxCells === undefined ? {} : { maxCells: o.maxCells }) });
  const out = (type: number, sid: number, payload: Uint8Array): void => {
    if (o.failWrites?.() === true) throw new CodedError(ErrorCodes.ENG_ERR_QUEUE_FULL, 'full');
    const r = decodeEntityFrames(payload);
    if (type === FromScene.CELLS) {
      r.frames.forEach((f, i) => cells.set(r.add[i]!, decodeCellFrame(DEF, framePayload(f))));
      return;
    }
    const view = EntityViewCodec.decode(framePayload(r.frames[0]!));
    assert.deepEqual([view.sceneId, view.add, view.remove, view.reset], ['field:1', [...r.add], [...r.remove], r.reset]);
    views.set(sid, { add: [...r.add], remove: [...r.remove], reset: view.reset, snapshots: r.frames.slice(1).map((f) => decodeCellFrame(DEF, framePayload(f))) });
  };
  const rep = new SceneReplication(DEF, interest, { sceneId: 'field:1', out, logger: silentLogger, present: (id) => present.has(id) });
  let tick = 0;
  return {
    rep,
    present,
    flush: () => {
      cells = new Map();
      views = new Map();
      rep.flush(++tick);
      return { cells, views };
    },
  };
}

/** A player present in the scene of `s` (spawn refuses a viewpoint for anyone else). */
const player = (id: string, sid: number, s?: { present: Set<string> }): { id: string; sid: number } => {
  s?.present.add(id);
  return { id, sid };
};
const avatar = (x: number, y: number, name = 'a'): { x: number; y: number; name: string; hp: number } => ({ x, y, name, hp: 100 });

test('a viewer hears the cells around its viewpoint, with a snapshot of each cell that holds entities', () => {
  const s = setup();
  const { rep, flush } = s;
  rep.spawn('Loot', { x: 44, y: 44, kind: 3 });
  rep.spawn('Loot', { x: 95, y: 95, kind: 4 }); // far away
  flush(); // nobody hears anything: no cell frame at all
  const ann = rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: player('ann', 7, s) });
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
  const s = setup();
  const { rep, flush } = s;
  const ann = rep.spawn('Avatar', avatar(15, 15, 'ann'), { player: player('ann', 1, s) });
  const bob = rep.spawn('Avatar', avatar(85, 85, 'bob'), { player: player('bob', 2, s) });
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
  // One field's value, and the values object, follow every change; an unknown field is refused.
  assert.equal(ann.get('hp'), 90);
  const before = ann.values;
  assert.equal(ann.values, before, 'built once per change');
  ann.set({ hp: 91 });
  assert.deepEqual([ann.values['hp'], before['hp']], [91, 90]);
  assert.throws(() => ann.get('mana' as never), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD);
  assert.throws(() => ann.set({ hp: 70000 }), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD);
  assert.equal(ann.get('hp'), 91, 'a refused set changes nothing');
  assert.throws(() => ann.set(null as never), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD);
  // Only its own keys: an inherited one is not a field to set.
  ann.set(Object.assign(Object.create({ mana: 1 }) as object, { hp: 91 }));
  flush();
  // Setting a field to its current value sends nothing.
  ann.set({ hp: 91 });
  assert.equal(flush().cells.size, 0);
  // A getter among the values that sets another entity (set's checked values are kept between
  // calls): both sets land whole; a refused value in a later field leaves the earlier ones alone.
  ann.set({
    get hp(): number {
      bob.set({ hp: 7, x: 84 });
      return 55;
    },
    x: 14,
  });
  assert.deepEqual([ann.get('hp'), ann.get('x'), bob.get('hp'), bob.get('x')], [55, 14, 7, 84]);
  assert.throws(() => bob.set({ hp: 8, x: Number.NaN }), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD);
  assert.deepEqual([bob.get('hp'), bob.get('x')], [7, 84]);
});

test('crossing into another cell: a leave naming the new cell in the old one, an enter with every field in the new one; removal: leave once, to nowhere', () => {
  const s = setup();
  const { rep, flush } = s;
  rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: player('ann', 1, s) });
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
  // Its id is not given again soon (a client that missed the leave would take the new one for it), but in the end it is.
  assert.notEqual(rep.spawn('Loot', { x: 1, y: 1, kind: 1 }).id, loot.id);
  for (let i = 0; i < 20; i++) flush();
  assert.equal(rep.spawn('Loot', { x: 1, y: 1, kind: 1 }).id, loot.id);
});

test('the viewer walks: new cells come with snapshots, cells left behind are dropped, with hysteresis', () => {
  const s = setup();
  const { rep, flush } = s;
  const ann = rep.spawn('Avatar', avatar(15, 55, 'ann'), { player: player('ann', 1, s) });
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
  ann.set({ x: 39 }); // near the edge at x = 40: worked out again here
  flush();
  for (const x of [41, 39, 41, 40.5, 39.5]) {
    ann.set({ x }); // back and forth over the edge, within hysteresis / 2 of 39: no change at all
    assert.equal(flush().views.size, 0, `at x = ${x}`);
  }
});

test('maxChangesPerCell: a crowd in one cell sends at most the cap a tick, the longest waiting first, and every change arrives', () => {
  const s = setup({ maxChangesPerCell: 4 });
  const { rep, flush } = s;
  rep.spawn('Avatar', avatar(55, 55, 'watcher'), { player: player('w', 1, s) });
  const crowd = Array.from({ length: 10 }, (_, i) => rep.spawn('Loot', { x: 52 + i * 0.1, y: 55, kind: 0 }));
  flush();
  for (const l of crowd) l.set({ kind: 1 });
  const sent: number[][] = [];
  for (let i = 0; i < 3; i++) sent.push((flush().cells.get(packCell(5, 5))?.entities ?? []).map((e) => e.id));
  assert.deepEqual(sent.map((s) => s.length), [4, 4, 2]);
  assert.deepEqual(sent.flat(), crowd.map((l) => l.id), 'in the order they changed, each once');
});

test('focus: a player hears a focused entity\'s cell wherever it goes, beyond maxCells, until unfocused or removed', () => {
  const s = setup();
  const { rep, flush } = s;
  const p = player('ann', 1, s);
  rep.spawn('Avatar', avatar(15, 15, 'ann'), { player: p });
  const mate = rep.spawn('Avatar', avatar(85, 85, 'mate'));
  flush();
  // Far away: its cell (8,8) comes in, after the viewpoint's own, with a snapshot.
  rep.focus(p, mate);
  let view = flush().views.get(1)!;
  assert.deepEqual(view.add, [packCell(8, 8)]);
  assert.deepEqual(view.remove, []);
  assert.deepEqual(view.snapshots.flatMap((f) => f.entities.map((e) => e.id)), [mate.id]);
  // Its changes reach the player through that cell.
  mate.set({ hp: 5 });
  let out = flush();
  assert.deepEqual(out.cells.get(packCell(8, 8))!.entities.map((e) => [e.id, e.values]), [[mate.id, { hp: 5 }]]);
  // It walks into another cell: the view follows it (the new cell in, the old one out).
  mate.set({ x: 75 });
  out = flush();
  view = out.views.get(1)!;
  assert.deepEqual([view.add, view.remove], [[packCell(7, 8)], [packCell(8, 8)]]);
  // Focusing again, or on the player's own viewpoint, changes nothing.
  rep.focus(p, mate);
  rep.focus(p, rep.of(p)!);
  assert.equal(flush().views.size, 0);
  // Unfocused: its cell goes (it is out of range).
  rep.unfocus(p, mate);
  view = flush().views.get(1)!;
  assert.deepEqual([view.add, view.remove], [[], [packCell(7, 8)]]);
  // Removed while focused: the focus ends with it.
  rep.focus(p, mate);
  flush();
  mate.remove();
  view = flush().views.get(1)!;
  assert.deepEqual([view.add, view.remove], [[], [packCell(7, 8)]]);
  const refused = (err: unknown): boolean => isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID;
  assert.throws(() => rep.focus(p, mate), refused, 'a removed entity');
  assert.throws(() => rep.focus({ id: 'nobody' }, rep.of(p)!), refused, 'a player without a viewpoint');
  // At most 32 entities a player.
  const many = Array.from({ length: 33 }, (_, i) => rep.spawn('Loot', { x: 90, y: i, kind: 0 }));
  for (const l of many.slice(0, 32)) rep.focus(p, l);
  assert.throws(() => rep.focus(p, many[32]!), refused, 'a 33rd entity');
  // A focused cell within range is heard once; when the focuser leaves, its focus goes with it.
  flush();
  rep.playerLeft('ann');
  flush();
  for (const l of many) l.remove();
  flush();
  assert.equal(rep.cellsHeld, 0);
});

test('focus is kept beyond maxCells: the nearest cells fill the cap, focused ones come on top', () => {
  const s = setup({ maxCells: 4 });
  const { rep, flush } = s;
  const p = player('ann', 1, s);
  rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: p });
  const far = rep.spawn('Loot', { x: 5, y: 95, kind: 1 });
  rep.focus(p, far);
  const view = flush().views.get(1)!;
  assert.equal(view.add.length, 5);
  assert.equal(view.add.at(-1), packCell(0, 9), 'the focused cell after the four nearest');
});

test('cells are held only while they hold entities or are heard: a world emptied holds none', () => {
  const s = setup();
  const { rep, flush } = s;
  const ann = rep.spawn('Avatar', avatar(15, 15, 'ann'), { player: player('ann', 1, s) });
  const loot = Array.from({ length: 20 }, (_, i) => rep.spawn('Loot', { x: (i * 37) % 100, y: (i * 53) % 100, kind: 0 }));
  flush();
  assert.ok(rep.cellsHeld >= 9, 'the viewer\'s 3 × 3 and the loot\'s cells');
  // Wander everything across the map for a while: cells left behind are let go.
  for (let t = 0; t < 30; t++) {
    ann.set({ x: (15 + t * 3) % 100, y: (15 + t * 7) % 100 });
    for (const [i, l] of loot.entries()) l.set({ x: (i * 37 + t * 11) % 100, y: (i * 53 + t * 13) % 100 });
    flush();
  }
  const spots = new Set([...rep.values()].map((e) => `${Math.floor((e.get('x') as number) / 10)},${Math.floor((e.get('y') as number) / 10)}`));
  assert.ok(rep.cellsHeld <= spots.size + 16, `${rep.cellsHeld} cells held for ${spots.size} occupied and one view`);
  for (const l of loot) l.remove();
  rep.playerLeft('ann');
  flush();
  assert.equal(rep.cellsHeld, 0);
});

test('a player who leaves while focusing on an entity is not given a view again, and holds no cell', () => {
  const s = setup();
  const { rep, flush } = s;
  const ann = player('ann', 1, s);
  rep.spawn('Avatar', avatar(15, 15, 'ann'), { player: ann });
  const target = rep.spawn('Loot', { x: 85, y: 85, kind: 1 });
  flush();
  rep.focus(ann, target);
  flush();
  rep.playerLeft('ann');
  target.remove();
  assert.equal(flush().views.has(1), false, 'no view for a player who left');
  flush();
  assert.equal(rep.cellsHeld, 0);
});

test('a player leaving removes its viewpoint entity; a viewpoint removed while the player stays unsubscribes it from every cell', () => {
  const s = setup();
  const { rep, flush } = s;
  const ann = rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: player('ann', 1, s) });
  const bobPlayer = player('bob', 2, s);
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
  const s = setup();
  const { rep, flush } = s;
  rep.spawn('Loot', { x: 55, y: 55, kind: 1 });
  flush();
  for (let i = 0; i < 100; i++) rep.spawn('Avatar', avatar(55, 55, `p${i}`), { player: player(`p${i}`, 100 + i, s) });
  const out = flush();
  assert.equal(out.views.size, 100);
  const own = out.views.get(100)!.snapshots.find((f) => f.cellX === 5 && f.cellY === 5)!;
  assert.equal(own.entities.length, 101, 'the loot and the hundred avatars, all entering');
});

test('a viewpoint is only for a player in the scene; a new connection gets a reset view with every cell again', () => {
  const s = setup();
  const { rep, flush } = s;
  assert.throws(() => rep.spawn('Avatar', avatar(55, 55), { player: { id: 'ghost' } }), (err: unknown) => isCodedError(err) && err.code === ErrorCodes.OPT_ERR_INVALID);
  const annPlayer = player('ann', 1, s);
  rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: annPlayer });
  const first = flush().views.get(1)!;
  assert.equal(first.reset, true, 'the first view of a connection resets');
  (annPlayer as { sid: number }).sid = 2; // the player connected again
  rep.playerRejoined('ann');
  const again = flush().views.get(2)!;
  assert.deepEqual([again.reset, again.add.sort(), again.remove], [true, first.add.sort(), []]);
  assert.equal(again.snapshots.length, 1, "its own cell's snapshot again");
});

test('a view that cannot be written is not taken as heard: the next flush resets it; cell frames that cannot be written reset everyone', () => {
  let failing = true;
  const s = setup({ failWrites: () => failing });
  const { rep, flush } = s;
  rep.spawn('Avatar', avatar(55, 55, 'ann'), { player: player('ann', 1, s) });
  assert.equal(flush().views.size, 0, 'nothing written');
  failing = false;
  const view = flush().views.get(1)!;
  assert.equal(view.reset, true);
  assert.equal(view.add.length, 9);
  const loot = rep.spawn('Loot', { x: 51, y: 51, kind: 1 });
  failing = true;
  flush(); // its enter is lost with the record
  failing = false;
  const after = flush();
  assert.equal(after.views.get(1)!.reset, true, 'a reset view follows the lost cells');
  const seen = after.views.get(1)!.snapshots.flatMap((f) => f.entities.map((e) => e.id));
  assert.ok(seen.includes(loot.id), 'the snapshot has what the lost record carried');
});

test('a viewpoint off the map hears the edge cells; a player whose viewpoint is removed is told to hear nothing', () => {
  const s = setup();
  const { rep, flush } = s;
  const ann = rep.spawn('Avatar', avatar(-500, 50, 'ann'), { player: player('ann', 1, s) });
  const view = flush().views.get(1)!;
  assert.ok(view.add.includes(packCell(0, 5)), 'the edge cell');
  ann.remove();
  const blind = flush().views.get(1)!;
  assert.deepEqual([blind.add, blind.remove.sort()], [[], [...view.add].sort()]);
});
