/**
 * What the `entities:` section generates (needs flatc, like generated-fresh): the .fbs tables in
 * the slot order of @gos/schema's cell frame codec, and a protocol.ts that compiles under the
 * strict tsconfig, types scene code as intended, and loads.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { CellFrame, Codec, SceneEntitiesDef } from '@gos/schema';
import { findWorkspaceRoot, generate } from '../src/generate.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = findWorkspaceRoot(here)!;

const YAML = `namespace: ents
version: 1
enums:
  Facing: { values: [North, East] }
messages:
  Hello: { fields: { n: int32 } }
pushes:
  Hello: { id: 1 }
entities:
  world:
    push: 300
    doc: The open world.
    types:
      Avatar:
        doc: A player.
        fields:
          x: { type: float32, quantize: 0.01, farEvery: 2, doc: East. }
          y: { type: float32, quantize: 0.01 }
          name: string
          hp: uint16
          facing: Facing
      BigBoss:
        fields: { x: float64, y: float64, angry: bool }
`;

const AVATAR_FBS = `/// A player.
/// Entity type Avatar of scene type world, in WorldCell frames: the fields that changed; all of them when it enters.
table WorldAvatar {
  id:uint32;
  /// Every field is present: the entity is new to the cell.
  enter:bool;
  /// East.
  /// Quantised: value = x * 0.01.
  x:int32 = null;
  /// Quantised: value = y * 0.01.
  y:int32 = null;
  name:string;
  hp:uint16 = null;
  facing:Facing = null;
}
`;

const BOSS_FBS = `table WorldBigBoss {
  id:uint32;
  /// Every field is present: the entity is new to the cell.
  enter:bool;
  x:float64 = null;
  y:float64 = null;
  angry:bool = null;
}
`;

const CELL_FBS = `/// The open world.
/// Cell frame of scene type world (push WorldCell = 300): one cell's changes in one tick.
table WorldCell {
  tick:uint32;
  cell_x:int16;
  cell_y:int16;
  /// Ids of the entities that left the cell.
  leaves:[uint32];
  /// For each of leaves, the cell it moved to (cell_y << 16 | cell_x), or 0xFFFFFFFF: it left the scene.
  leave_to:[uint32];
  avatar:[WorldAvatar];
  big_boss:[WorldBigBoss];
}
`;

/** Scene code typed by the generated module: compiles only if the types are the intended ones. */
const USE_TS = `import { ENTITIES, Facing, PUSH, protocol, type EntityMap, type PushMap, type WorldAvatar, type WorldBigBoss } from './protocol.js';
const avatar: EntityMap['world']['Avatar'] = { x: 1.5, y: 2, name: 'a', hp: 3, facing: Facing.East };
const boss: EntityMap['world']['BigBoss'] = { x: 0, y: 0, angry: true };
// @ts-expect-error an enum field takes the enum's members only
const badFacing: WorldAvatar = { ...avatar, facing: 7 };
// @ts-expect-error a bool field is a boolean
const badBool: WorldBigBoss = { ...boss, angry: 1 };
// @ts-expect-error every field is required
const missing: WorldAvatar = { x: 1, y: 2, name: 'a', hp: 3 };
const frame: PushMap['WorldCell'] = { tick: 1, cellX: 0, cellY: 0, leaves: [], leaveTo: [], entities: [] };
const cellPush: 300 = PUSH.WorldCell;
const def = ENTITIES.world.types[0]?.fields[0]?.quantize;
const same: typeof ENTITIES = protocol.entities;
export { badFacing, badBool, missing, frame, cellPush, def, same };
`;

async function tsc(tsconfig: string): Promise<void> {
  try {
    await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: root });
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    assert.fail(`tsc failed:\n${stdout}${stderr}`);
  }
}

describe('generated entities', () => {
  // Inside the workspace (dist/ is ignored by git): the generated code resolves @gos/schema and flatbuffers from there.
  let tmp = '';
  before(async () => {
    tmp = await mkdtemp(path.join(here, 'tmp-entities-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('the .fbs has the entity and cell tables in the runtime slot order, optional scalars, the cell push among the push ids', async () => {
    await writeFile(path.join(tmp, 'ents.yaml'), YAML);
    await generate({ inputs: [path.join(tmp, 'ents.yaml')], outDir: path.join(tmp, 'gen'), rootDir: tmp });
    const fbs = await readFile(path.join(tmp, 'gen', 'ents.fbs'), 'utf8');
    for (const block of [AVATAR_FBS, BOSS_FBS, CELL_FBS]) assert.ok(fbs.includes(block), `expected in ents.fbs:\n${block}\ngot:\n${fbs}`);
    assert.ok(fbs.indexOf('table WorldAvatar') < fbs.indexOf('table WorldCell'), 'tables precede the cell table that names them');
    assert.match(fbs, /enum PushId : uint16 \{\n {2}Hello = 1,\n {2}WorldCell = 300\n\}/);
    assert.match(fbs, /\/\/\/ {3}WorldCell: WorldCell\n/);
    const flatcTs = await readFile(path.join(tmp, 'gen', 'fbs', 'ents_generated.ts'), 'utf8');
    assert.match(flatcTs, /facing\(\):Facing\|null/, 'flatc takes an optional enum');
    assert.match(flatcTs, /bigBoss\(index: number, obj\?:WorldBigBoss\):WorldBigBoss\|null/);
  });

  it('protocol.ts compiles under the strict tsconfig, types scene code, and loads with a working cell push', async () => {
    const gen = path.join(tmp, 'gen');
    await writeFile(path.join(gen, 'use.ts'), USE_TS);
    const tsconfig = path.join(tmp, 'tsconfig.json');
    const out = path.join(tmp, 'out');
    await writeFile(
      tsconfig,
      JSON.stringify({
        extends: path.join(root, 'tsconfig.base.json'),
        compilerOptions: { rootDir: gen, outDir: out, composite: false, incremental: false, declaration: false, declarationMap: false, sourceMap: false, typeRoots: [path.join(root, 'node_modules/@types')] },
        files: [path.join(gen, 'protocol.ts'), path.join(gen, 'use.ts')],
      }),
    );
    await tsc(tsconfig);
    const mod = (await import(pathToFileURL(path.join(out, 'protocol.js')).href)) as {
      ENTITIES: Readonly<Record<string, SceneEntitiesDef>>;
      PUSH: Readonly<Record<string, number>>;
      protocol: { entities: unknown; pushById: ReadonlyMap<number, { name: string; codec: Codec<CellFrame> }> };
    };
    const world = mod.ENTITIES['world']!;
    assert.deepEqual(world, {
      scene: 'world',
      push: 300,
      pushName: 'WorldCell',
      types: [
        {
          name: 'Avatar',
          fields: [
            { name: 'x', type: 'float32', quantize: 0.01, farEvery: 2 },
            { name: 'y', type: 'float32', quantize: 0.01 },
            { name: 'name', type: 'string', quantize: null },
            { name: 'hp', type: 'uint16', quantize: null },
            { name: 'facing', type: 'uint8', quantize: null },
          ],
        },
        { name: 'BigBoss', fields: [{ name: 'x', type: 'float64', quantize: null }, { name: 'y', type: 'float64', quantize: null }, { name: 'angry', type: 'bool', quantize: null }] },
      ],
    });
    for (const frozen of [mod.ENTITIES, world, world.types, world.types[0], world.types[0]?.fields, world.types[0]?.fields[0]]) assert.ok(Object.isFrozen(frozen));
    assert.equal(mod.protocol.entities, mod.ENTITIES);
    assert.equal(mod.PUSH['WorldCell'], 300);
    const push = mod.protocol.pushById.get(300);
    assert.ok(push !== undefined);
    assert.equal(push.name, 'WorldCell');
    const frame: CellFrame = {
      tick: 7,
      cellX: 2,
      cellY: 3,
      leaves: [9],
      leaveTo: [0xffffffff],
      entities: [{ type: 'BigBoss', id: 4, enter: true, values: { x: 1.25, y: -2.5, angry: true } }],
    };
    assert.deepEqual(push.codec.decode(push.codec.encode(frame)), frame);
  });

  it('a protocol without entities still exports an empty EntityMap and ENTITIES, and its protocol object has no entities', async () => {
    await writeFile(path.join(tmp, 'none.yaml'), 'namespace: none\nversion: 1\nmessages:\n  Hi: { fields: { n: int32 } }\npushes:\n  Hi: { id: 7 }\n');
    await generate({ inputs: [path.join(tmp, 'none.yaml')], outDir: path.join(tmp, 'none'), rootDir: tmp });
    const ts = await readFile(path.join(tmp, 'none', 'protocol.ts'), 'utf8');
    assert.match(ts, /^export interface EntityMap \{\}$/m);
    assert.match(ts, /^export const ENTITIES: Readonly<Record<string, rt\.SceneEntitiesDef>> = Object\.freeze\(\{\}\);$/m);
    assert.doesNotMatch(ts, /entities: ENTITIES/);
    assert.doesNotMatch(await readFile(path.join(tmp, 'none', 'none.fbs'), 'utf8'), /Cell/);
  });
});
