import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError, ErrorCodes } from '@gos/schema';
import { emitFbs } from '../src/emit-fbs.js';
import { emitTs } from '../src/emit-ts.js';
import { parseProtocol, type ProtocolSource } from '../src/parse.js';

const src = (text: string, path = 'game.yaml'): ProtocolSource => ({ path, displayPath: path, text });

const VALID = `namespace: game
version: 2
enums:
  Color: { values: [Red, Green] }
messages:
  Ping: { fields: { seq: uint32, color: Color } }
  Pong: { fields: { seq: uint32, tags: [string], raw: bytes } }
routes:
  ping: { id: 1, scene: lobby, request: Ping, response: Pong }
pushes:
  Pong: { id: 2 }
`;

/** Parse `text` expecting SCH_ERR_BAD_YAML whose message has every fragment in `expected`. */
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

describe('protocol YAML', () => {
  it('parses a valid protocol', () => {
    const m = parseProtocol([src(VALID)]);
    assert.equal(m.namespace, 'game');
    assert.equal(m.version, 2);
    assert.deepEqual(m.sources, ['game.yaml']);
    assert.deepEqual(m.routes, [{ name: 'ping', id: 1, scene: 'lobby', request: 'Ping', response: 'Pong', idempotent: false, doc: null }]);
    assert.deepEqual(m.pushes, [{ name: 'Pong', id: 2, message: 'Pong', cellsOf: null, doc: null }]);
    const pong = m.messages.find((x) => x.name === 'Pong')!;
    assert.deepEqual(pong.fields.map((f) => f.type), [
      { kind: 'scalar', scalar: 'uint32' },
      { kind: 'array', of: { kind: 'string' } },
      { kind: 'bytes' },
    ]);
  });

  it('routes may be marked idempotent (true or false, nothing else)', () => {
    const yaml = VALID.replace('response: Pong }', 'response: Pong, idempotent: true }');
    assert.equal(parseProtocol([src(yaml)]).routes[0]?.idempotent, true);
    expectBad(VALID.replace('response: Pong }', 'response: Pong, idempotent: yes please }'), 'routes.ping.idempotent: expected true or false');
  });

  it('fields may be marked deprecated (true or false, nothing else): kept in the IDL in their slot, left out of the TypeScript', () => {
    const yaml = VALID.replace('Pong: { fields: { seq: uint32, tags: [string], raw: bytes } }', 'Pong: { fields: { seq: uint32, tags: { type: "[string]", deprecated: true }, raw: bytes } }');
    const m = parseProtocol([src(yaml)]);
    assert.deepEqual(m.messages.find((x) => x.name === 'Pong')!.fields.map((f) => [f.name, f.deprecated]), [['seq', false], ['tags', true], ['raw', false]]);
    const fbs = emitFbs(m);
    assert.match(fbs, /table Pong \{\n {2}seq:uint32;\n {2}tags:\[string\] \(deprecated\);\n {2}raw:\[uint8\];\n\}/);
    const ts = emitTs(m, { runtimeImport: '@gos/schema', flatcImport: './fbs/game_generated.js' });
    assert.match(ts, /export interface Pong \{\n {2}seq: number;\n {2}raw: Uint8Array;\n\}/);
    assert.doesNotMatch(ts, /addTags|v\.tags/);
    expectBad(VALID.replace('seq: uint32, tags', 'seq: { type: uint32, deprecated: soon }, tags'), 'messages.Pong.fields.seq.deprecated: expected true or false');
  });

  it('merges several files of one namespace', () => {
    const a = src('namespace: game\nversion: 1\nmessages:\n  A: { fields: { x: int32 } }\n', 'a.yaml');
    const b = src('namespace: game\nversion: 1\nroutes:\n  go: { id: 5, scene: s, request: A }\n', 'b.yaml');
    const m = parseProtocol([a, b]);
    assert.deepEqual(m.sources, ['a.yaml', 'b.yaml']);
    assert.equal(m.routes[0]?.request, 'A');
  });

  it('unknown field type: file, line and field path', () => {
    expectBad(VALID.replace('seq: uint32, color', 'seq: uint23, color'), 'game.yaml:6:', 'messages.Ping.fields.seq', 'unknown type "uint23"');
  });

  it('unknown type inside an array', () => {
    expectBad(VALID.replace('tags: [string]', 'tags: [strng]'), 'game.yaml:7:', 'messages.Pong.fields.tags', 'unknown type "strng"');
  });

  it('duplicate id across routes and pushes', () => {
    expectBad(VALID.replace('Pong: { id: 2 }', 'Pong: { id: 1 }'), 'game.yaml:11:', 'pushes.Pong.id', 'duplicate id 1', 'routes.ping');
  });

  it('id out of the game range (reserved for core)', () => {
    expectBad(VALID.replace('id: 1,', 'id: 65281,'), 'game.yaml:9:', 'routes.ping.id', 'out of range 1..65279');
    expectBad(VALID.replace('id: 1,', 'id: 0,'), 'routes.ping.id', 'out of range 1..65279');
  });

  it('core ids must be in the reserved range', () => {
    expectBad(VALID.replace('namespace: game', 'namespace: core'), 'routes.ping.id', 'out of range 65280..65535', 'pushes.Pong.id');
  });

  it('missing required key', () => {
    expectBad(VALID.replace('scene: lobby, ', ''), 'game.yaml:9:', 'routes.ping.scene', 'missing required key "scene"');
    expectBad(VALID.replace('version: 2\n', ''), 'game.yaml:1:', 'version', 'missing required key "version"');
    expectBad(VALID.replace('Ping: { fields: { seq: uint32, color: Color } }', 'Ping: {}'), 'game.yaml:6:', 'messages.Ping.fields', 'missing');
  });

  it('unknown message in a route', () => {
    expectBad(VALID.replace('response: Pong', 'response: Pongg'), 'game.yaml:9:', 'routes.ping.response', 'unknown message "Pongg"');
    expectBad(VALID.replace('request: Ping', 'request: Color'), 'routes.ping.request', '"Color" is an enum');
  });

  it('unknown push message', () => {
    expectBad(VALID.replace('Pong: { id: 2 }', 'Pang: { id: 2 }'), 'game.yaml:11:', 'pushes.Pang', 'unknown message "Pang"');
  });

  it('wrong key', () => {
    expectBad(VALID.replace('response: Pong', 'respnse: Pong'), 'game.yaml:9:', 'routes.ping.respnse', 'unknown key "respnse"', 'expected one of');
    expectBad(`${VALID}extra: 1\n`, 'game.yaml:12:', 'extra', 'unknown key "extra"');
  });

  it('duplicate key and YAML syntax errors', () => {
    expectBad(VALID.replace('Pong: { id: 2 }', 'Pong: { id: 2 }\n  Pong: { id: 3 }'), 'game.yaml:12:', 'Map keys must be unique');
    expectBad('namespace: game\nversion: [1\n', 'game.yaml:');
  });

  it('missing values are located at their key', () => {
    expectBad(VALID.replace('seq: uint32, color', 'seq: , color'), 'game.yaml:6:', 'messages.Ping.fields.seq', 'missing type');
    expectBad(VALID.replace('Pong: { id: 2 }', 'Pong:'), 'game.yaml:11:', 'pushes.Pong', 'expected a map, got nothing');
  });

  it('wrong value types', () => {
    expectBad(VALID.replace('version: 2', 'version: two'), 'game.yaml:2:', 'version', 'expected an integer');
    expectBad(VALID.replace('id: 1,', 'id: 1.5,'), 'routes.ping.id', 'expected an integer');
    expectBad(VALID.replace('messages:', 'messages: 3\nx:'), 'game.yaml:5:', 'messages', 'expected a map');
  });

  it('names: invalid, reserved and clashing', () => {
    expectBad(VALID.replace('seq: uint32, color', 'Seq: uint32, color'), 'messages.Ping.fields.Seq', 'not a valid name');
    expectBad(VALID.replace('seq: uint32, color', 'default: uint32, color'), 'messages.Ping.fields.default', 'reserved');
    expectBad(VALID.replace('Ping: {', 'Map: {').replace('request: Ping', 'request: Map'), 'messages.Map', 'reserved');
    expectBad(VALID.replace('Color:', 'Ping:').replace('color: Color', 'color: Ping'), 'already an enum');
    expectBad(VALID.replace('namespace: game', 'namespace: Game'), 'namespace', 'not a valid namespace');
    expectBad(`${VALID.replace('messages:', 'messages:\n  GameProtocol: { fields: {} }')}`, 'GameProtocol', 'names the generated protocol type');
  });

  it('names another flatc language cannot take are refused, naming the language', () => {
    // Fields, routes and enum values: keywords flatc does not rename in that language.
    expectBad(VALID.replace('seq: uint32, color', 'await: uint32, color'), 'game.yaml:6:', 'messages.Ping.fields.await', '"await" is reserved in Python, Rust, Swift');
    expectBad(VALID.replace('  ping: {', '  dyn: {'), 'routes.dyn', '"dyn" is reserved in Rust');
    expectBad(VALID.replace('seq: uint32, color', 'consteval: uint32, color'), '"consteval" is reserved in C++');
    expectBad(VALID.replace('seq: uint32, color', 'precedencegroup: uint32, color'), '"precedencegroup" is reserved in Swift');
    expectBad(VALID.replace('[Red, Green]', '[Red, async]'), 'enums.Color.values.async', '"async" is reserved in Python, Rust');
    // Messages and enums: Python's object API uses the lower-cased name as a variable; PHP class names ignore case.
    expectBad(VALID.replace('Ping: {', 'From: {').replace('request: Ping', 'request: From'), 'messages.From', 'reserved in Python', '"from"');
    expectBad(VALID.replace('Ping: {', 'None: {').replace('request: Ping', 'request: None'), 'messages.None', 'reserved in Python');
    expectBad(VALID.replace('Ping: {', 'List: {').replace('request: Ping', 'request: List'), 'messages.List', 'reserved in PHP', '"list"');
    expectBad(VALID.replace('Color:', 'Match:').replace('color: Color', 'color: Match'), 'enums.Match', 'reserved in PHP');
    // Namespace parts become package names, never renamed.
    expectBad(VALID.replace('namespace: game', 'namespace: game.type'), 'namespace', 'namespace part "type" is reserved in Go');
    expectBad(VALID.replace('namespace: game', 'namespace: event.game'), 'namespace part "event" is reserved in C#');
  });

  it('keywords flatc renames itself are accepted (Python from, Rust move, C# event, …)', () => {
    const renamed = VALID.replace('seq: uint32, color', 'from: uint32, event: uint32, lambda: uint32, color')
      .replace('  ping: {', '  move: {')
      .replace('[Red, Green]', '[None, Red, func, when]')
      .replace('namespace: game', 'namespace: game.move');
    const m = parseProtocol([src(renamed)]);
    assert.deepEqual(m.messages.find((x) => x.name === 'Ping')?.fields.map((f) => f.name), ['from', 'event', 'lambda', 'color']);
    assert.deepEqual(m.routes.map((r) => r.name), ['move']);
    assert.deepEqual(m.enums[0]?.values.map((v) => v.name), ['None', 'Red', 'func', 'when']);
  });

  it('unsupported shapes: nested arrays, arrays of bytes, recursion without arrays', () => {
    expectBad(VALID.replace('tags: [string]', 'tags: "[[string]]"'), 'messages.Pong.fields.tags', 'arrays of arrays');
    expectBad(VALID.replace('tags: [string]', 'tags: [[string]]'), 'messages.Pong.fields.tags', 'arrays of arrays');
    expectBad(VALID.replace('tags: [string]', 'tags: "[bytes]"'), 'messages.Pong.fields.tags', 'arrays of bytes');
    expectBad(VALID.replace('raw: bytes', 'raw: Pong'), 'messages.Pong', 'contain themselves', 'Pong → Pong');
  });

  it('enums: values, ranges and the zero default', () => {
    expectBad(VALID.replace('Color: { values: [Red, Green] }', 'Color: { values: { Red: 1, Green: 2 } }'), 'game.yaml:4:', 'enums.Color.values', 'needs a value 0');
    expectBad(VALID.replace('Color: { values: [Red, Green] }', 'Color: { type: uint8, values: { Red: 0, Green: 256 } }'), 'enums.Color.values.Green', 'out of range 0..255');
    expectBad(VALID.replace('Color: { values: [Red, Green] }', 'Color: { type: int64, values: [Red] }'), 'enums.Color.type', 'enum type must be one of');
    expectBad(VALID.replace('[Red, Green]', '[Red, Red]'), 'enums.Color.values.Red', 'duplicate enum value');
  });

  it('several files must agree on namespace and version; duplicates name both places', () => {
    const a = src('namespace: game\nversion: 1\nmessages:\n  A: { fields: {} }\n', 'a.yaml');
    expectBad([a, src('namespace: other\nversion: 1\n', 'b.yaml')], 'b.yaml:1:', 'namespace', 'a.yaml:1:');
    expectBad([a, src('namespace: game\nversion: 1\nmessages:\n  A: { fields: {} }\n', 'b.yaml')], 'b.yaml:4:', 'messages.A', 'duplicate message "A"', 'a.yaml:4:');
  });

  it('reports every problem at once', () => {
    const message = expectBad(VALID.replace('uint32, color', 'u32, color').replace('response: Pong', 'response: Nope'), '2 problems');
    assert.equal(message.split('\n').length, 3);
  });

  it('rpc: messages between scenes by target scene type; a cast has no response', () => {
    const m = parseProtocol([src(`${VALID}rpc:\n  town:\n    banner: { request: Ping, response: Pong, doc: The guild banner. }\n    kill: { request: Ping }\n  arena: {}\n`)]);
    assert.deepEqual(m.rpc, [
      { target: 'town', name: 'banner', request: 'Ping', response: 'Pong', doc: 'The guild banner.' },
      { target: 'town', name: 'kill', request: 'Ping', response: null, doc: null },
    ]);
    assert.deepEqual(parseProtocol([src(VALID)]).rpc, []);
  });

  it('rpc: bad target names, bad message names, unknown messages, missing requests, unknown keys, duplicates', () => {
    const rpc = (body: string): string => `${VALID}rpc:\n${body}`;
    expectBad(rpc('  Town:\n    banner: { request: Ping }\n'), 'rpc.Town', 'not a valid scene type');
    expectBad(rpc('  town:\n    Banner: { request: Ping }\n'), 'rpc.town.Banner', 'lowerCamelCase');
    expectBad(rpc('  town:\n    banner: { request: Nope }\n'), 'rpc.town.banner.request', 'unknown message "Nope"');
    expectBad(rpc('  town:\n    banner: { request: Ping, response: Color }\n'), 'rpc.town.banner.response', '"Color" is an enum');
    expectBad(rpc('  town:\n    banner: { response: Pong }\n'), 'rpc.town.banner', 'request');
    expectBad(rpc('  town:\n    banner: { request: Ping, timeout: 5 }\n'), 'rpc.town.banner', 'timeout');
    expectBad(VALID.replace('Ping: { fields', 'Rpc: { fields').replace(/request: Ping/g, 'request: Rpc'), 'messages.Rpc', 'reserved');
    expectBad([src(rpc('  town:\n    banner: { request: Ping }\n'), 'a.yaml'), src('namespace: game\nversion: 2\nrpc:\n  town:\n    banner: { request: Ping }\n', 'b.yaml')], 'b.yaml:5:', 'duplicate rpc message "town.banner"', 'a.yaml:');
  });
});
