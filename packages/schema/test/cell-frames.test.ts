/**
 * Cell frames (entities.ts) against the `.fbs` the generator writes for an `entities:` section
 * (the kitchen fixture): bytes from CellFrameWriter read with flatc's generated classes, bytes
 * from flatc's generated builders read with decodeCellFrame. Both sides agreeing proves the
 * runtime layout is the one the .fbs describes, for clients in any flatc language.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Builder, ByteBuffer } from 'flatbuffers';
import { CELL_GONE, CellFrameWriter, CodedError, ErrorCodes, FrameKind, cellCodec, decodeCellFrame, encodeFrame, packCell, type CellFrame, type EntityTypeDef, type EntityValue } from '../src/index.js';
import * as fb from './generated/fbs/kitchen_generated.js';
import { ENTITIES, Facing, Level, PUSH, protocol, type EntityMap } from './generated/protocol.js';

const world = ENTITIES.world;
const [avatarType, monsterType] = world.types as [EntityTypeDef, EntityTypeDef];

/** A writer's arguments for `values`: the mask of the fields given, and the values by field index. */
function row(type: EntityTypeDef, values: Readonly<Record<string, EntityValue>>): [number, EntityValue[]] {
  let mask = 0;
  const list = type.fields.map((f, i) => {
    const v = values[f.name];
    if (v === undefined) return 0;
    mask |= 1 << i;
    return v;
  });
  return [mask, list];
}

const avatar: EntityMap['world']['Avatar'] = { x: 12.34, y: -5.67, name: 'Zoë ✓', hp: 65535, facing: Facing.West, level: Level.Low, alive: true, speed: 2.5 };
const monster: EntityMap['world']['Monster'] = { x: -1.5, y: 1024.25, kind: 255, mood: -128, hunger: -32768, loot: -2147483648, seed: 4294967295, title: 'Ogre' };

/** A frame of the world scene: an avatar and a monster entering, an avatar changing two fields, two leaves. */
function writeWorldFrame(w = new CellFrameWriter(world)): Uint8Array {
  w.begin(42, 3, 7);
  w.entity(0, 1001, true, ...row(avatarType, { ...avatar }));
  w.entity(0, 1002, false, ...row(avatarType, { hp: 12, name: 'Bo' }));
  w.entity(1, 0xfffffff0, true, ...row(monsterType, { ...monster }));
  w.leave(55, packCell(4, 7));
  w.leave(56, CELL_GONE);
  return w.finish();
}

function isBadPayload(err: unknown): boolean {
  return err instanceof CodedError && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD;
}

describe('cell frames and the generated .fbs', () => {
  it('the generated module describes the YAML: ENTITIES (enum fields as their integer type) and a cell push per scene type', () => {
    assert.deepEqual(Object.keys(ENTITIES), ['world', 'arena']);
    assert.deepEqual(
      avatarType.fields.map((f) => [f.name, f.type, f.quantize]),
      [['x', 'float32', 0.01], ['y', 'float32', 0.01], ['name', 'string', null], ['hp', 'uint16', null], ['facing', 'uint8', null], ['level', 'int16', null], ['alive', 'bool', null], ['speed', 'float64', null]],
    );
    assert.deepEqual([world.scene, world.push, world.pushName], ['world', PUSH.WorldCell, 'WorldCell']);
    assert.deepEqual([ENTITIES.arena.push, ENTITIES.arena.pushName, ENTITIES.arena.types.map((t) => t.name)], [PUSH.ArenaCell, 'ArenaCell', ['Marker']]);
    assert.equal(protocol.entities, ENTITIES);
    assert.equal(protocol.pushById.get(PUSH.WorldCell), protocol.pushes.WorldCell);
    assert.equal(protocol.pushes.WorldCell.name, 'WorldCell');
    assert.ok(Object.isFrozen(ENTITIES) && Object.isFrozen(world.types[0]?.fields));
  });

  it("CellFrameWriter's bytes read with flatc's generated classes; fields not sent are null", () => {
    const cell = fb.WorldCell.getRootAsWorldCell(new ByteBuffer(writeWorldFrame()));
    assert.deepEqual([cell.tick(), cell.cellX(), cell.cellY()], [42, 3, 7]);
    assert.deepEqual([...(cell.leavesArray() ?? [])], [55, 56]);
    assert.deepEqual([...(cell.leaveToArray() ?? [])], [packCell(4, 7), CELL_GONE]);
    assert.equal(cell.avatarLength(), 2);
    const a = cell.avatar(0)!;
    assert.deepEqual(
      [a.id(), a.enter(), a.x(), a.y(), a.name(), a.hp(), a.facing(), a.level(), a.alive(), a.speed()],
      [1001, true, 1234, -567, 'Zoë ✓', 65535, Facing.West, Level.Low, true, 2.5],
    );
    const changed = cell.avatar(1)!;
    assert.deepEqual(
      [changed.id(), changed.enter(), changed.x(), changed.y(), changed.name(), changed.hp(), changed.facing(), changed.level(), changed.alive(), changed.speed()],
      [1002, false, null, null, 'Bo', 12, null, null, null, null],
    );
    assert.equal(cell.monsterLength(), 1);
    const m = cell.monster(0)!;
    assert.deepEqual(
      [m.id(), m.enter(), m.x(), m.y(), m.kind(), m.mood(), m.hunger(), m.loot(), m.seed(), m.title()],
      [0xfffffff0, true, -1.5, 1024.25, 255, -128, -32768, -2147483648, 4294967295, 'Ogre'],
    );

    const w = new CellFrameWriter(ENTITIES.arena);
    w.begin(1, 0x7fff, 9);
    w.entity(0, 3, true, 0b11, [-32768, 32767]);
    const arena = fb.ArenaCell.getRootAsArenaCell(new ByteBuffer(w.finish()));
    assert.deepEqual([arena.tick(), arena.cellX(), arena.cellY(), arena.leavesLength(), arena.markerLength()], [1, 0x7fff, 9, 0, 1]);
    assert.deepEqual([arena.marker(0)?.x(), arena.marker(0)?.y()], [-32768, 32767]);
  });

  it("flatc's generated builders make frames decodeCellFrame reads, zero values and absent fields included", () => {
    const b = new Builder(256);
    // flatc's builder skips a value equal to the field's default unless told otherwise: zeros are values here.
    b.forceDefaults(true);
    const name = b.createString('Ünï');
    const title = b.createString('');
    const entered = fb.WorldAvatar.createWorldAvatar(b, 5, true, 150, -250, name, 0, Facing.North, Level.Zero, false, 0);
    fb.WorldAvatar.startWorldAvatar(b);
    fb.WorldAvatar.addId(b, 6);
    fb.WorldAvatar.addHp(b, 7);
    const changed = fb.WorldAvatar.endWorldAvatar(b);
    const monsterRow = fb.WorldMonster.createWorldMonster(b, 0, true, 0.5, -0.5, 1, -1, 2, -2, 3, title);
    const avatars = fb.WorldCell.createAvatarVector(b, [entered, changed]);
    const monsters = fb.WorldCell.createMonsterVector(b, [monsterRow]);
    const leaves = fb.WorldCell.createLeavesVector(b, [8, 9]);
    const leaveTo = fb.WorldCell.createLeaveToVector(b, [packCell(0, 1), CELL_GONE]);
    b.finish(fb.WorldCell.createWorldCell(b, 77, 0, 12, leaves, leaveTo, avatars, monsters));
    const bytes = b.asUint8Array();

    const expected: CellFrame = {
      tick: 77,
      cellX: 0,
      cellY: 12,
      leaves: [8, 9],
      leaveTo: [packCell(0, 1), CELL_GONE],
      entities: [
        { type: 'Avatar', id: 5, enter: true, values: { x: 150 * 0.01, y: -250 * 0.01, name: 'Ünï', hp: 0, facing: Facing.North, level: Level.Zero, alive: false, speed: 0 } },
        { type: 'Avatar', id: 6, enter: false, values: { hp: 7 } },
        { type: 'Monster', id: 0, enter: true, values: { x: 0.5, y: -0.5, kind: 1, mood: -1, hunger: 2, loot: -2, seed: 3, title: '' } },
      ],
    };
    assert.deepEqual(decodeCellFrame(world, bytes), expected);
    assert.deepEqual(protocol.pushes.WorldCell.codec.decode(bytes), expected);
  });

  it('cellCodec round-trips a frame, rounding quantised fields to their step', () => {
    const codec = cellCodec(world);
    const frame: CellFrame = {
      tick: 4294967295,
      cellX: 1,
      cellY: 2,
      leaves: [3],
      leaveTo: [CELL_GONE],
      // Decoded by type, in declaration order (a vector per type), then in the order written.
      entities: [
        { type: 'Avatar', id: 2, enter: false, values: { x: 12.347, facing: Facing.East } },
        { type: 'Monster', id: 1, enter: true, values: { ...monster } },
      ],
    };
    const back = codec.decode(codec.encode(frame));
    assert.deepEqual(back, { ...frame, entities: [{ ...frame.entities[0]!, values: { x: 1235 * 0.01, facing: Facing.East } }, frame.entities[1]] });
  });

  // Builder.clear() resets forceDefaults: set only in the constructor, it was off in every frame.
  it('a field set to 0 is sent, also in a second frame of the same writer', () => {
    const w = new CellFrameWriter(world);
    writeWorldFrame(w);
    w.begin(43, 3, 7);
    w.entity(0, 1001, true, ...row(avatarType, { ...avatar, hp: 0, alive: false, speed: 0 }));
    const cell = fb.WorldCell.getRootAsWorldCell(new ByteBuffer(w.finish()));
    assert.deepEqual([cell.avatar(0)?.hp(), cell.avatar(0)?.alive(), cell.avatar(0)?.speed()], [0, false, 0]);
  });

  it('decodeCellFrame refuses truncated and garbled bytes with SCH_ERR_BAD_PAYLOAD', () => {
    const bytes = writeWorldFrame();
    const whole = decodeCellFrame(world, bytes);
    // The builder writes back to front: the end of the buffer holds what the frame refers to.
    // Only alignment padding after the last object may be cut without loss.
    let refused = 0;
    for (let n = 0; n < bytes.length; n++) {
      try {
        assert.deepEqual(decodeCellFrame(world, bytes.slice(0, n)), whole, `a ${n}-byte prefix decodes differently`);
        assert.ok(n > bytes.length - 4, `a ${n}-byte prefix of ${bytes.length} decodes`);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        assert.ok(isBadPayload(err), `prefix of ${n} bytes: ${String(err)}`);
        refused++;
      }
    }
    assert.ok(refused >= bytes.length - 3);

    const rootPastEnd = bytes.slice();
    new DataView(rootPastEnd.buffer).setUint32(0, bytes.length + 4, true);
    assert.throws(() => decodeCellFrame(world, rootPastEnd), isBadPayload);
    const badVtable = bytes.slice();
    const root = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    new DataView(badVtable.buffer).setInt32(root, -0x7fff0000, true);
    assert.throws(() => decodeCellFrame(world, badVtable), isBadPayload);
    const badUtf8 = bytes.slice();
    const at = Buffer.from(badUtf8).indexOf(Buffer.from('Ogre'));
    badUtf8[at] = 0xc0;
    assert.throws(() => decodeCellFrame(world, badUtf8), isBadPayload);
    assert.throws(() => decodeCellFrame(world, new Uint8Array(4)), isBadPayload);

    // Well-formed buffers that break the frame's own rules.
    const b = new Builder(64);
    const leaves = fb.WorldCell.createLeavesVector(b, [1, 2]);
    const leaveTo = fb.WorldCell.createLeaveToVector(b, [CELL_GONE]);
    fb.WorldCell.startWorldCell(b);
    fb.WorldCell.addLeaves(b, leaves);
    fb.WorldCell.addLeaveTo(b, leaveTo);
    b.finish(fb.WorldCell.endWorldCell(b));
    assert.throws(() => decodeCellFrame(world, b.asUint8Array()), (err) => isBadPayload(err) && /2 leaves but 1 leave_to/.test((err as Error).message));
    const w = new CellFrameWriter(world);
    w.begin(1, 0, 0);
    w.entity(0, 1, true, ...row(avatarType, { x: 1, y: 2 }));
    assert.throws(() => decodeCellFrame(world, w.finish()), (err) => isBadPayload(err) && /Avatar enters without field name/.test((err as Error).message));

    // Random damage: decoded or refused, never another error.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      const damaged = bytes.slice();
      for (let k = 0; k <= random(3); k++) damaged[random(damaged.length)] = random(256);
      try {
        decodeCellFrame(world, damaged);
      } catch (err) {
        assert.ok(isBadPayload(err), `damaged frame ${i}: ${String(err)}`);
      }
    }
  });

  it('the built runtime loads whichever of cell-reader.js and codec-runtime.js (which re-exports cellCodec) comes first', async () => {
    const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src');
    for (const first of ['cell-reader.js', 'entities.js', 'codec-runtime.js']) {
      const script = `const m = await import(${JSON.stringify(path.join(dist, first))}); const rt = await import(${JSON.stringify(path.join(dist, 'codec-runtime.js'))}); if (typeof rt.cellCodec !== 'function' || typeof rt.verifyRoot !== 'function' || Object.keys(m).length === 0) process.exit(1);`;
      await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    }
  });
});

describe('finishPush', () => {
  it('is the frame encodeFrame would make of finish(): the 8-byte PUSH header, then the table', () => {
  const def = { scene: 's', push: 0x1234, pushName: 'SCell', types: [{ name: 'T', fields: [{ name: 'x', type: 'float32' as const, quantize: null }, { name: 'y', type: 'float32' as const, quantize: null }] }] };
  const w = new CellFrameWriter(def);
  w.begin(7, 1, 2);
  w.entity(0, 9, true, 0b11, [1.5, 2.5]);
  const body = w.finish();
  w.begin(7, 1, 2);
  w.entity(0, 9, true, 0b11, [1.5, 2.5]);
  assert.deepEqual(w.finishPush(0x1234), encodeFrame(FrameKind.PUSH, 0x1234, 0, body));
  });
});

describe('CellFrameWriter, growing', () => {
  it('a long string that grows the buffer does not lose the one-byte fields written after it', () => {
    const w = new CellFrameWriter(world);
    for (const n of [5000, 20_000, 70_000]) {
      w.begin(1, 0, 0);
      const values = { ...avatar, name: 'n'.repeat(n), facing: Facing.West, alive: true };
      w.entity(0, 9, true, ...row(avatarType, values));
      const got = decodeCellFrame(world, w.finish()).entities[0]!.values;
      assert.deepEqual([(got['name'] as string).length, got['facing'], got['alive'], got['level'], got['hp']], [n, Facing.West, true, values.level, values.hp], `a name of ${n} bytes`);
    }
  });
});

describe('CellFrameWriter, randomised', () => {
  it('round-trips 300 frames of one writer: every field kind, random masks, enters, strings and leaves, read by decodeCellFrame and by flatc\'s classes', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T,>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
    const w = new CellFrameWriter(world);
    for (let frame = 0; frame < 300; frame++) {
      const tick = Math.floor(rand() * 2 ** 32);
      const cx = Math.floor(rand() * 100);
      const cy = Math.floor(rand() * 100);
      w.begin(tick, cx, cy);
      const leaves: number[] = [];
      const leaveTo: number[] = [];
      const avatars: CellFrame['entities'][number][] = [];
      const monsters: CellFrame['entities'][number][] = [];
      for (let i = 0, n = Math.floor(rand() * 12); i < n; i++) {
        const isAvatar = rand() < 0.6;
        const type = isAvatar ? avatarType : monsterType;
        const full: Record<string, EntityValue> = isAvatar
          ? { x: Math.round((rand() - 0.5) * 1e6) / 100, y: Math.round((rand() - 0.5) * 1e4) / 100, name: pick(['', 'a', 'Zoë ✓', 'x'.repeat(Math.floor(rand() * 40))]), hp: Math.floor(rand() * 65536), facing: pick([Facing.North, Facing.West]), level: pick([Level.Low, Level.Zero]), alive: rand() < 0.5, speed: (rand() - 0.5) * 1e9 }
          : { x: Math.fround((rand() - 0.5) * 1000), y: Math.fround(rand() * 10), kind: Math.floor(rand() * 256), mood: Math.floor(rand() * 256) - 128, hunger: Math.floor(rand() * 65536) - 32768, loot: Math.floor(rand() * 2 ** 32) - 2 ** 31, seed: Math.floor(rand() * 2 ** 32), title: pick(['', 'Ogre', 'Ünï']) };
        const enter = rand() < 0.3;
        const values: Record<string, EntityValue> = {};
        for (const f of type.fields) if (enter || rand() < 0.4) values[f.name] = full[f.name]!;
        const id = Math.floor(rand() * 2 ** 31);
        w.entity(isAvatar ? 0 : 1, id, enter, ...row(type, values));
        (isAvatar ? avatars : monsters).push({ type: type.name, id, enter, values });
      }
      for (let i = 0, n = Math.floor(rand() * 4); i < n; i++) {
        const id = Math.floor(rand() * 2 ** 32);
        const to = rand() < 0.3 ? CELL_GONE : packCell(Math.floor(rand() * 100), Math.floor(rand() * 100));
        w.leave(id, to);
        leaves.push(id);
        leaveTo.push(to);
      }
      const expected: CellFrame = { tick, cellX: cx, cellY: cy, leaves, leaveTo, entities: [...avatars, ...monsters] };
      const bytes = w.finish();
      const decoded = decodeCellFrame(world, bytes);
      // Quantised positions come back on their step: compare those within half a step.
      for (let i = 0; i < expected.entities.length; i++) {
        const want = expected.entities[i]!.values;
        const got = decoded.entities[i]!.values;
        for (const q of ['x', 'y']) {
          if (expected.entities[i]!.type !== 'Avatar' || want[q] === undefined) continue;
          assert.ok(Math.abs((got[q] as number) - (want[q] as number)) <= 0.005 + 1e-9, `frame ${frame} entity ${i} ${q}`);
          (got as Record<string, EntityValue>)[q] = want[q]!;
        }
      }
      assert.deepEqual(decoded, expected, `frame ${frame}`);
      // flatc's classes read the same frame.
      const cell = fb.WorldCell.getRootAsWorldCell(new ByteBuffer(bytes));
      assert.equal(cell.avatarLength() + cell.monsterLength(), expected.entities.length);
      assert.equal(cell.leavesLength(), expected.leaves.length);
      for (let i = 0; i < cell.avatarLength(); i++) assert.equal(cell.avatar(i)!.id(), avatars[i]!.id);
      for (let i = 0; i < cell.monsterLength(); i++) {
        const m = cell.monster(i)!;
        assert.equal(m.id(), monsters[i]!.id);
        if (monsters[i]!.values['title'] !== undefined) assert.equal(m.title(), monsters[i]!.values['title']);
      }
    }
  });
});
