/** The protocol YAML's `entities:` section: what it parses to, and every rule it is checked against. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError, ErrorCodes, MAX_ENTITY_FIELDS } from '@gos/schema';
import { parseProtocol, type ProtocolSource } from '../src/parse.js';

const src = (text: string, path = 'game.yaml'): ProtocolSource => ({ path, displayPath: path, text });

const BASE = `namespace: game
version: 1
enums:
  Facing: { values: [North, East] }
  Level: { type: int16, values: { Low: -5, Zero: 0 } }
messages:
  Ping: { fields: { seq: uint32 } }
routes:
  ping: { id: 1, scene: world, request: Ping }
pushes:
  Ping: { id: 2 }
`;

const ENTITIES = `entities:
  world:
    push: 300
    doc: The world.
    types:
      Avatar:
        doc: A player.
        fields:
          x: { type: float32, quantize: 0.01, farEvery: 3, doc: East. }
          y: { type: float32, quantize: 0.01, farEvery: 3 }
          name: string
          hp: uint16
          facing: Facing
      Monster:
        fields: { x: float32, y: float32, kind: uint8, level: Level }
`;

const VALID = `${BASE}${ENTITIES}`;

/** `VALID` with its `entities:` section replaced. */
const withEntities = (entities: string): string => `${BASE}entities:\n${entities}`;
/** One scene `world` (push 300) with one type `T` whose fields are `fields` (a flow map body). */
const oneType = (fields: string, type = 'T'): string => withEntities(`  world:\n    push: 300\n    types:\n      ${type}: { fields: { ${fields} } }\n`);

function expectBad(sources: ProtocolSource[] | string, ...expected: string[]): string {
  const list = typeof sources === 'string' ? [src(sources)] : sources;
  let message = '';
  assert.throws(
    () => parseProtocol(list),
    (err: unknown) => {
      assert.ok(err instanceof CodedError);
      assert.equal(err.code, ErrorCodes.SCH_ERR_BAD_YAML);
      message = err.message;
      for (const e of expected) assert.ok(err.message.includes(e), `expected ${JSON.stringify(e)} in:\n${err.message}`);
      return true;
    },
  );
  return message;
}

describe('entities: in the protocol YAML', () => {
  it('parses scene types, entity types and fields; an enum field has its enum integer type', () => {
    const m = parseProtocol([src(VALID)]);
    assert.deepEqual(m.entities, [
      {
        scene: 'world',
        push: 300,
        pushName: 'WorldCell',
        doc: 'The world.',
        types: [
          {
            name: 'Avatar',
            doc: 'A player.',
            fields: [
              { name: 'x', type: 'float32', enumName: null, quantize: 0.01, farEvery: 3, doc: 'East.' },
              { name: 'y', type: 'float32', enumName: null, quantize: 0.01, farEvery: 3, doc: null },
              { name: 'name', type: 'string', enumName: null, quantize: null, farEvery: null, doc: null },
              { name: 'hp', type: 'uint16', enumName: null, quantize: null, farEvery: null, doc: null },
              { name: 'facing', type: 'uint8', enumName: 'Facing', quantize: null, farEvery: null, doc: null },
            ],
          },
          {
            name: 'Monster',
            doc: null,
            fields: [
              { name: 'x', type: 'float32', enumName: null, quantize: null, farEvery: null, doc: null },
              { name: 'y', type: 'float32', enumName: null, quantize: null, farEvery: null, doc: null },
              { name: 'kind', type: 'uint8', enumName: null, quantize: null, farEvery: null, doc: null },
              { name: 'level', type: 'int16', enumName: 'Level', quantize: null, farEvery: null, doc: null },
            ],
          },
        ],
      },
    ]);
    assert.deepEqual(m.pushes.map((p) => [p.name, p.id, p.message, p.cellsOf]), [
      ['Ping', 2, 'Ping', null],
      ['WorldCell', 300, 'WorldCell', 'world'],
    ]);
    assert.deepEqual(parseProtocol([src(BASE)]).entities, []);
  });

  it('every scalar type but the 64-bit ones is a field type; quantize goes on float32 and float64', () => {
    const fields = 'x: { type: float64, quantize: 0.5 }, y: int32, a: bool, b: int8, c: uint8, d: int16, e: uint16, f: uint32, g: float32, h: string';
    const t = parseProtocol([src(oneType(fields))]).entities[0]?.types[0];
    assert.deepEqual(t?.fields.map((f) => [f.name, f.type, f.quantize]), [
      ['x', 'float64', 0.5], ['y', 'int32', null], ['a', 'bool', null], ['b', 'int8', null], ['c', 'uint8', null],
      ['d', 'int16', null], ['e', 'uint16', null], ['f', 'uint32', null], ['g', 'float32', null], ['h', 'string', null],
    ]);
  });

  it('scene types: a valid name, a push id and at least one entity type, no other keys, once across files', () => {
    expectBad(VALID.replace('  world:\n', '  World:\n'), 'entities.World', 'not a valid scene type');
    expectBad(VALID.replace('    push: 300\n', ''), 'game.yaml:14:', 'entities.world.push', 'missing required key "push"');
    expectBad(VALID.replace('    push: 300\n', '    push: 300\n    pushes: 3\n'), 'entities.world.pushes', 'unknown key "pushes"');
    expectBad(withEntities('  world:\n    push: 300\n'), 'entities.world.types', 'missing required key "types"');
    expectBad(withEntities('  world:\n    push: 300\n    types: {}\n'), 'entities.world.types', 'at least one entity type');
    expectBad(withEntities('  world:\n    push: 300\n    types:\n'), 'entities.world.types', 'at least one entity type');
    expectBad(withEntities('  world: 3\n'), 'entities.world', 'expected a map');
    const other = src(`namespace: game\nversion: 1\n${ENTITIES.replace('300', '301')}`, 'b.yaml');
    expectBad([src(VALID, 'a.yaml'), other], 'b.yaml:4:', 'duplicate entities of scene type "world"', 'a.yaml:');
  });

  it('the push id is checked like any other: range, and unique across routes and pushes', () => {
    expectBad(VALID.replace('push: 300', 'push: 1'), 'game.yaml:14:', 'entities.world.push', 'duplicate id 1', 'routes.ping');
    expectBad(VALID.replace('push: 300', 'push: 2'), 'entities.world.push', 'duplicate id 2', 'pushes.Ping');
    expectBad(VALID.replace('push: 300', 'push: 65280'), 'entities.world.push', 'out of range 1..65279');
    expectBad(VALID.replace('push: 300', 'push: 0'), 'entities.world.push', 'out of range 1..65279');
    expectBad(VALID.replace('push: 300', 'push: many'), 'entities.world.push', 'expected an integer');
    const twoScenes = `${VALID}  arena:\n    push: 300\n    types:\n      Flag: { fields: { x: int16, y: int16 } }\n`;
    expectBad(twoScenes, 'entities.arena.push', 'duplicate id 300', 'entities.world');
    const core = VALID.replace('namespace: game', 'namespace: core').replace('id: 1,', 'id: 65280,').replace('id: 2 }', 'id: 65281 }');
    expectBad(core, 'entities.world.push', 'out of range 65280..65535');
    assert.equal(parseProtocol([src(core.replace('push: 300', 'push: 65282'))]).entities[0]?.push, 65282);
  });

  it('entity type names: PascalCase, not reserved, usable in every flatc language, no unknown keys', () => {
    expectBad(VALID.replace('      Avatar:', '      avatar:'), 'entities.world.types.avatar', 'not a valid name');
    expectBad(VALID.replace('      Avatar:', '      Map:'), 'entities.world.types.Map', 'reserved');
    expectBad(VALID.replace('      Avatar:', '      From:'), 'entities.world.types.From', 'reserved in Python');
    expectBad(VALID.replace('        doc: A player.', '        docs: A player.'), 'entities.world.types.Avatar.docs', 'unknown key "docs"');
    expectBad(VALID.replace('        doc: A player.\n        fields:', '        doc: A player.\n        field:'), 'entities.world.types.Avatar.fields', 'missing required key "fields"');
  });

  it('field names: member name rules, and neither id nor enter', () => {
    expectBad(oneType('x: int16, y: int16, Hp: uint8'), 'entities.world.types.T.fields.Hp', 'not a valid name');
    expectBad(oneType('x: int16, y: int16, default: uint8'), 'entities.world.types.T.fields.default', 'reserved');
    expectBad(oneType('x: int16, y: int16, await: uint8'), 'entities.world.types.T.fields.await', 'reserved in Python');
    expectBad(oneType('x: int16, y: int16, id: uint32'), 'entities.world.types.T.fields.id', '"id" is taken');
    expectBad(oneType('x: int16, y: int16, enter: bool'), 'entities.world.types.T.fields.enter', '"enter" is taken');
  });

  it('field types: scalars, string or an enum; no 64-bit integers, bytes, arrays, messages', () => {
    expectBad(oneType('x: int16, y: int16, big: int64'), 'game.yaml:16:', 'entities.world.types.T.fields.big', '64-bit integers are not supported');
    expectBad(oneType('x: int16, y: int16, big: uint64'), 'fields.big', '64-bit integers are not supported');
    expectBad(oneType('x: int16, y: int16, raw: bytes'), 'fields.raw', 'bytes are not supported');
    expectBad(oneType('x: int16, y: int16, list: [int32]'), 'fields.list', 'arrays are not supported');
    expectBad(oneType('x: int16, y: int16, list: "[int32]"'), 'fields.list', 'arrays are not supported');
    expectBad(oneType('x: int16, y: int16, ping: Ping'), 'fields.ping', '"Ping" is a message');
    expectBad(oneType('x: int16, y: int16, hp: uint61'), 'fields.hp', 'unknown type "uint61"', 'or an enum');
    expectBad(oneType('x: int16, y: int16, hp: 3'), 'fields.hp', 'expected a type name');
    expectBad(oneType('x: int16, y: int16, hp: '), 'fields.hp', 'missing type');
    expectBad(oneType('x: int16, y: int16, hp: { doc: Health. }'), 'fields.hp.type', 'missing required key "type"');
    expectBad(oneType('x: int16, y: int16, hp: { type: uint8, min: 0 }'), 'fields.hp.min', 'unknown key "min"');
  });

  it('quantize: a positive finite number, on float32 and float64 fields only', () => {
    for (const q of ['0', '-0.5', '.inf', '.nan', 'fine']) {
      expectBad(oneType(`x: { type: float32, quantize: ${q} }, y: float32`), 'entities.world.types.T.fields.x.quantize', 'positive finite number');
    }
    for (const type of ['int32', 'uint16', 'string', 'bool', 'Facing']) {
      expectBad(oneType(`x: float32, y: float32, v: { type: ${type}, quantize: 0.1 }`), 'game.yaml:16:', 'fields.v.quantize', `quantize applies to float32 and float64 fields only, not ${type}`);
    }
  });

  it('farEvery: a whole number of ticks from 1 to 255, on any field', () => {
    const t = parseProtocol([src(oneType('x: { type: float32, farEvery: 4 }, y: { type: int16, farEvery: 1 }, hp: { type: uint8, farEvery: 255 }'))]).entities[0]?.types[0];
    assert.deepEqual(t?.fields.map((f) => [f.name, f.farEvery]), [['x', 4], ['y', 1], ['hp', 255]]);
    for (const n of ['0', '-1', '2.5', '256', 'often']) {
      expectBad(oneType(`x: { type: float32, farEvery: ${n} }, y: float32`), 'entities.world.types.T.fields.x.farEvery', 'farEvery must be a whole number of ticks from 1 to 255');
    }
  });

  it('every entity type declares x and y, numeric', () => {
    expectBad(oneType('y: float32, hp: uint8'), 'entities.world.types.T.fields', 'missing field "x"');
    expectBad(oneType('x: float32, hp: uint8'), 'entities.world.types.T.fields', 'missing field "y"');
    expectBad(withEntities('  world:\n    push: 300\n    types:\n      T: { fields: }\n'), 'missing field "x"', 'missing field "y"');
    expectBad(oneType('x: string, y: float32'), 'fields.x', '"x" is the entity\'s position: it must be a number, not string');
    expectBad(oneType('x: float32, y: bool'), 'fields.y', 'not bool');
    // An enum is an integer on the wire.
    assert.equal(parseProtocol([src(oneType('x: Facing, y: int8'))]).entities[0]?.types[0]?.fields[0]?.type, 'uint8');
  });

  it(`at most MAX_ENTITY_FIELDS (${MAX_ENTITY_FIELDS}) fields per entity type`, () => {
    const fields = (n: number): string => ['x: float32', 'y: float32', ...Array.from({ length: n - 2 }, (_, i) => `f${i}: uint8`)].join(', ');
    assert.equal(parseProtocol([src(oneType(fields(MAX_ENTITY_FIELDS)))]).entities[0]?.types[0]?.fields.length, MAX_ENTITY_FIELDS);
    expectBad(oneType(fields(MAX_ENTITY_FIELDS + 1)), 'entities.world.types.T.fields', `${MAX_ENTITY_FIELDS + 1} fields`, `at most ${MAX_ENTITY_FIELDS}`);
  });

  it('the generated <Scene><Type> and <Scene>Cell names clash with no message, enum, push, reserved name or each other', () => {
    expectBad(VALID.replace('Ping: { fields: { seq: uint32 } }', 'Ping: { fields: { seq: uint32 } }\n  WorldAvatar: { fields: {} }'), 'entities.world.types.Avatar', 'the table "WorldAvatar" it generates is already a message');
    expectBad(VALID.replace('  Facing:', '  WorldCell:').replace('facing: Facing', 'facing: WorldCell'), 'entities.world:', 'the cell table and push "WorldCell" it generates is already an enum');
    expectBad(VALID.replace('pushes:\n  Ping: { id: 2 }', 'pushes:\n  WorldCell: { id: 2, message: Ping }'), 'entities.world:', '"WorldCell" it generates is already a push');
    expectBad(VALID.replace('      Monster:', '      Cell:'), 'entities.world.types.Cell', '"WorldCell" it generates is also generated by entities.world');
    const clash = withEntities('  a:\n    push: 300\n    types:\n      BC: { fields: { x: int16, y: int16 } }\n  aB:\n    push: 301\n    types:\n      C: { fields: { x: int16, y: int16 } }\n');
    expectBad(clash, 'entities.aB.types.C', '"ABC" it generates is also generated by entities.a.types.BC');
    expectBad(withEntities('  e:\n    push: 300\n    types:\n      NTITIES: { fields: { x: int16, y: int16 } }\n'), 'entities.e.types.NTITIES', 'the table "ENTITIES" it generates is a reserved name');
    expectBad(withEntities('  e:\n    push: 300\n    types:\n      Mpty: { fields: { x: int16, y: int16 } }\n'), 'the table "EMpty" it generates cannot be used', 'reserved in PHP');
    expectBad(withEntities('  route:\n    push: 300\n    types:\n      Id: { fields: { x: int16, y: int16 } }\n'), 'the table "RouteId" it generates is a reserved name');
    const ns = withEntities('  my:\n    push: 300\n    types:\n      GameProtocol: { fields: { x: int16, y: int16 } }\n').replace('namespace: game', 'namespace: my.game');
    expectBad(ns, 'entities.my.types.GameProtocol', '"MyGameProtocol" it generates names the generated protocol type');
  });

  it("an entity type's vector in the cell table clashes with none of its other members", () => {
    for (const [type, owner] of [['Tick', 'tick'], ['CellX', 'cell_x'], ['Leaves', 'leaves'], ['LeaveTo', 'leave_to'], ['LeavesLength', 'leaves'], ['LeaveToArray', 'leave_to']]) {
      expectBad(oneType('x: int16, y: int16', type), `entities.world.types.${type}`, `clashes with "${owner}"`);
    }
    expectBad(VALID.replace('      Monster:', '      AvatarLength:'), 'entities.world.types.AvatarLength', '"avatar_length", clashes with "avatar"');
    expectBad(oneType('x: int16, y: int16', 'Constructor'), 'entities.world.types.Constructor', 'vector of this type would be named "constructor"', 'reserved');
    expectBad(oneType('x: int16, y: int16', 'Dyn'), 'entities.world.types.Dyn', 'reserved in Rust');
  });

  it('EntityMap and ENTITIES are reserved: the generated module declares them', () => {
    expectBad(BASE.replace('  Ping: { fields', '  EntityMap: { fields: {} }\n  Ping: { fields'), 'messages.EntityMap', 'reserved');
    expectBad(BASE.replace('  Facing:', '  ENTITIES:'), 'enums.ENTITIES', 'reserved');
  });
});
