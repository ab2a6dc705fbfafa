import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Builder } from 'flatbuffers';
import { CodedError, ErrorCodes, ErrorReplyCodec, NoticeCodec, SceneRestartedCodec, SceneResumedCodec, coreProtocol, CORE_PUSH, encodeErrorFrame, isRetryableCode, type Codec } from '../src/index.js';
import { tableCodec } from '../src/codec-runtime.js';
import {
  NoFieldsCodec,
  EverythingCodec,
  EvolvedCodec,
  Facing,
  Level,
  NodeCodec,
  PUSH,
  ROUTE,
  ScalarsCodec,
  Vec2Codec,
  createApi,
  protocol,
  type Everything,
  type Node,
  type Scalars,
  type SceneHandlers,
} from './generated/protocol.js';

const scalars: Scalars = {
  b: true,
  i8: -128,
  u8: 255,
  i16: -32768,
  u16: 65535,
  i32: -2147483648,
  u32: 4294967295,
  i64: -(2n ** 63n),
  u64: 2n ** 64n - 1n,
  f32: 1.5,
  f64: Math.PI,
};

const full: Everything = {
  scalars,
  name: 'héllo wörld ✓ 🎮',
  blob: new Uint8Array([0, 1, 2, 254, 255]),
  pos: { x: -0.25, y: 1024 },
  facing: Facing.West,
  level: Level.Low,
  tags: ['a', '', 'ünïcode'],
  path: [
    { x: 1, y: 2 },
    { x: 3, y: 4 },
  ],
  ints: [-1, 0, 2147483647],
  bigs: [-(2n ** 63n), 0n, 2n ** 63n - 1n],
  ubigs: [0n, 2n ** 64n - 1n],
  flags: [true, false, true],
  facings: [Facing.North, Facing.South],
  levels: [Level.High, Level.Zero, Level.Low],
  doubles: [Number.MAX_VALUE, -Number.MIN_VALUE, 0],
  small: [-128, 127],
  shorts: [0, 65535],
  floats: [0.5, -2],
};

const empty: Everything = {
  scalars: { b: false, i8: 0, u8: 0, i16: 0, u16: 0, i32: 0, u32: 0, i64: 0n, u64: 0n, f32: 0, f64: 0 },
  name: '',
  blob: new Uint8Array(0),
  pos: { x: 0, y: 0 },
  facing: Facing.North,
  level: Level.Zero,
  tags: [],
  path: [],
  ints: [],
  bigs: [],
  ubigs: [],
  flags: [],
  facings: [],
  levels: [],
  doubles: [],
  small: [],
  shorts: [],
  floats: [],
};

function assertCoded(fn: () => unknown, code: string, includes?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CodedError, `expected a CodedError, got ${String(err)}`);
    assert.equal(err.code, code);
    if (includes !== undefined) assert.ok(err.message.includes(includes), `"${err.message}" should include "${includes}"`);
    return true;
  });
}

describe('generated codecs', () => {
  it('round-trips every field kind at its extremes', () => {
    const bytes = EverythingCodec.encode(full);
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual(EverythingCodec.decode(bytes), full);
  });

  it('round-trips empty strings, arrays and bytes, and zero values', () => {
    assert.deepEqual(EverythingCodec.decode(EverythingCodec.encode(empty)), empty);
    assert.deepEqual(ScalarsCodec.decode(ScalarsCodec.encode(scalars)), scalars);
    assert.deepEqual(NoFieldsCodec.decode(NoFieldsCodec.encode({})), {});
  });

  it('a deprecated field keeps its slot: new frames leave it out, frames of older senders that carry it decode', () => {
    const bytes = EvolvedCodec.encode({ first: 7, last: 9 });
    assert.deepEqual(EvolvedCodec.decode(bytes), { first: 7, last: 9 });
    // An older sender, which still wrote `note` in slot 1 (`last` stays in slot 2).
    const b = new Builder(64);
    const note = b.createString('old news');
    b.startObject(3);
    b.addFieldInt32(0, 7, 0);
    b.addFieldOffset(1, note, 0);
    b.addFieldInt32(2, 9, 0);
    b.finish(b.endObject());
    assert.deepEqual(EvolvedCodec.decode(b.asUint8Array()), { first: 7, last: 9 });
    // Its slot is still checked: a `note` that is no string is refused, not skipped unseen.
    const bad = new Builder(64);
    bad.startObject(3);
    bad.addFieldInt32(1, 0x7fffffff, 0);
    bad.finish(bad.endObject());
    assert.throws(() => EvolvedCodec.decode(bad.asUint8Array()), { code: ErrorCodes.SCH_ERR_BAD_PAYLOAD });
  });

  it('decodes absent fields to full defaults, nested messages included', () => {
    // An empty table read as Everything: every field is absent.
    assert.deepEqual(EverythingCodec.decode(NoFieldsCodec.encode({})), empty);
  });

  it('round-trips recursion through arrays', () => {
    const tree: Node = { label: 'root', children: [{ label: 'a', children: [] }, { label: 'b', children: [{ label: 'c', children: [] }] }] };
    assert.deepEqual(NodeCodec.decode(NodeCodec.encode(tree)), tree);
  });

  it('decodes from a subarray at any byte offset (e.g. a frame payload)', () => {
    const bytes = EverythingCodec.encode(full);
    for (const shift of [1, 3, 8]) {
      const framed = new Uint8Array(bytes.length + shift);
      framed.set(bytes, shift);
      assert.deepEqual(EverythingCodec.decode(framed.subarray(shift)), full);
    }
  });

  it('copies bytes fields out of the input buffer', () => {
    const bytes = EverythingCodec.encode(full);
    const decoded = EverythingCodec.decode(bytes);
    bytes.fill(0);
    assert.deepEqual([...decoded.blob], [0, 1, 2, 254, 255]);
  });

  it('decodes frame after frame on one borrowed ByteBuffer: nothing carries over, not even from a decode that failed', () => {
    const other: Everything = { ...full, name: 'second', blob: new Uint8Array([9]), levels: [] };
    const bad = EverythingCodec.encode({ ...full, facing: 9 as Facing });
    assert.deepEqual(EverythingCodec.decode(EverythingCodec.encode(full)), full);
    assertCoded(() => EverythingCodec.decode(bad), ErrorCodes.SCH_ERR_BAD_PAYLOAD, 'enum Facing');
    assert.deepEqual(EverythingCodec.decode(EverythingCodec.encode(other)), other);
    const framed = new Uint8Array(3 + EverythingCodec.encode(full).length);
    framed.set(EverythingCodec.encode(full), 3);
    assert.deepEqual(EverythingCodec.decode(framed.subarray(3)), full, 'and from an offset after one from the start');
  });

  it('a decode inside a decode of the same codec gets a ByteBuffer of its own', () => {
    // One string field: the read decodes another buffer with this very codec before reading its own.
    let inner: Uint8Array | null = null;
    let seen: string | null = null;
    const codec: Codec<string> = tableCodec<string>(
      'Label',
      [['string']],
      (b, label) => {
        const s = b.createString(label);
        b.startObject(1);
        b.addFieldOffset(0, s, 0);
        return b.endObject();
      },
      (bb) => {
        if (inner !== null) {
          const bytes = inner;
          inner = null;
          seen = codec.decode(bytes);
        }
        const table = bb.position() + bb.readInt32(bb.position());
        const field = bb.__offset(table, 4);
        const label = field === 0 ? '' : bb.__string(table + field);
        return typeof label === 'string' ? label : '';
      },
    );
    inner = codec.encode('inner');
    assert.equal(codec.decode(codec.encode('outer')), 'outer');
    assert.equal(seen, 'inner');
    assert.equal(codec.decode(codec.encode('again')), 'again');
  });

  it('rejects enum values the enum does not define', () => {
    const bytes = EverythingCodec.encode({ ...full, facing: 9 as Facing });
    assertCoded(() => EverythingCodec.decode(bytes), ErrorCodes.SCH_ERR_BAD_PAYLOAD, 'enum Facing');
    const inArray = EverythingCodec.encode({ ...full, levels: [7 as Level] });
    assertCoded(() => EverythingCodec.decode(inArray), ErrorCodes.SCH_ERR_BAD_PAYLOAD, 'enum Level');
  });

  it('turns values that do not fit the message into SCH_ERR_BAD_PAYLOAD on encode', () => {
    assertCoded(() => EverythingCodec.encode({ ...full, pos: null as unknown as Everything['pos'] }), ErrorCodes.SCH_ERR_BAD_PAYLOAD, 'cannot encode Everything');
    assertCoded(() => ScalarsCodec.encode({ ...scalars, i64: 5 as unknown as bigint }), ErrorCodes.SCH_ERR_BAD_PAYLOAD, 'cannot encode Scalars');
    // The codec's builder is reused: a failed encode leaves nothing behind for the next one.
    assert.deepEqual(ScalarsCodec.decode(ScalarsCodec.encode(scalars)), scalars);
  });

  it('gives every encode bytes of its own (the builder is reused, its buffer is not handed out)', () => {
    const first = EverythingCodec.encode(full);
    const copy = first.slice();
    const second = EverythingCodec.encode(empty);
    assert.notEqual(first.buffer, second.buffer);
    assert.deepEqual(first, copy);
    assert.deepEqual(EverythingCodec.decode(first), full);
    assert.deepEqual(EverythingCodec.decode(second), empty);
    // A value far larger than the kept builder, then a small one again.
    const big = EverythingCodec.encode({ ...full, blob: new Uint8Array(200_000).fill(7) });
    assert.equal(EverythingCodec.decode(big).blob.byteLength, 200_000);
    assert.deepEqual(EverythingCodec.decode(EverythingCodec.encode(full)), full);
  });

  it('reads buffers written by another builder (flatbuffers runtime directly)', () => {
    const b = new Builder(16);
    b.startObject(2);
    b.addFieldFloat32(0, 7, 0);
    b.addFieldFloat32(1, -3, 0);
    b.finish(b.endObject());
    assert.deepEqual(Vec2Codec.decode(b.asUint8Array()), { x: 7, y: -3 });
  });
});

describe('generated protocol table', () => {
  it('lists routes and pushes by name and id', () => {
    assert.equal(protocol.namespace, 'kitchen');
    assert.equal(protocol.version, 3);
    assert.equal(protocol.routes.get.id, ROUTE.get);
    assert.equal(protocol.routes.get.response, EverythingCodec);
    assert.equal(protocol.routes.fire.response, null);
    assert.equal(protocol.routes.tree.scene, 'arena');
    assert.equal(protocol.routeById.get(ROUTE.fire), protocol.routes.fire);
    assert.equal(protocol.pushById.get(PUSH.Tick)?.codec, Vec2Codec);
    assert.equal(protocol.pushes.Everything.name, 'Everything');
    assert.ok(Object.isFrozen(protocol) && Object.isFrozen(protocol.routes) && Object.isFrozen(protocol.routes.get));
  });

  it('core protocol: ErrorReply, SceneRestarted, Notice, SceneResumed and the chat routes in the reserved range', () => {
    assert.equal(coreProtocol.namespace, 'core');
    assert.equal(CORE_PUSH.SceneRestarted, 65281);
    assert.equal(CORE_PUSH.Notice, 65282);
    assert.equal(CORE_PUSH.SceneResumed, 65283);
    const resumed = { sceneId: 'world:1', reason: 'engine engine-1 was lost' };
    assert.deepEqual(SceneResumedCodec.decode(SceneResumedCodec.encode(resumed)), resumed);
    assert.equal(coreProtocol.pushById.get(65281)?.codec, SceneRestartedCodec);
    assert.equal(coreProtocol.pushes.Notice.codec, NoticeCodec);
    // The core's routes are the chat's, answered by the gateway, in the reserved range.
    assert.deepEqual([...coreProtocol.routeById.values()].map((r) => [r.id, r.name, r.scene]), [
      [65500, 'chatSay', 'gateway'],
      [65501, 'chatHistory', 'gateway'],
      [65502, 'chatBlock', 'gateway'],
    ]);
    const reply = { code: ErrorCodes.ENG_ERR_NO_HANDLER, message: 'no handler for route 9', retryable: false };
    assert.deepEqual(ErrorReplyCodec.decode(ErrorReplyCodec.encode(reply)), reply);
  });

  it('ERROR frames say whether their code is retryable', () => {
    const decodeReply = (frame: Uint8Array): unknown => ErrorReplyCodec.decode(frame.subarray(8));
    assert.deepEqual(decodeReply(encodeErrorFrame(1, 7, ErrorCodes.GW_ERR_NO_ENGINE, 'resuming')), { code: ErrorCodes.GW_ERR_NO_ENGINE, message: 'resuming', retryable: true });
    assert.deepEqual(decodeReply(encodeErrorFrame(1, 7, ErrorCodes.GW_ERR_SCENE_MOVED, 'lost')), { code: ErrorCodes.GW_ERR_SCENE_MOVED, message: 'lost', retryable: true });
    assert.deepEqual(decodeReply(encodeErrorFrame(1, 7, ErrorCodes.ENG_ERR_NO_HANDLER, 'no')), { code: ErrorCodes.ENG_ERR_NO_HANDLER, message: 'no', retryable: false });
    assert.equal(isRetryableCode(ErrorCodes.SCH_ERR_BAD_PAYLOAD), false);
  });

  it('createApi sends each route through the client with its RouteDef', async () => {
    const sent: [string, unknown, unknown][] = [];
    const api = createApi({
      request(route, payload, opts) {
        sent.push([route.name, payload, opts]);
        return Promise.resolve(route.response === null ? undefined : { label: 'x', children: [] });
      },
    });
    assert.deepEqual(await api.tree({ label: 'q', children: [] }, { timeoutMs: 50 }), { label: 'x', children: [] });
    assert.equal(await api.fire({ label: 'f', children: [] }), undefined);
    assert.deepEqual(sent, [
      ['tree', { label: 'q', children: [] }, { timeoutMs: 50 }],
      ['fire', { label: 'f', children: [] }, undefined],
    ]);
  });

  it('SceneHandlers types one handler object per scene type', async () => {
    const handlers: SceneHandlers<{ who: string }> = {
      lobby: {
        get: () => empty,
        fire: () => {},
      },
      arena: {
        tree: async (ctx, req) => ({ label: `${ctx.who}:${req.label}`, children: [] }),
      },
    };
    assert.deepEqual(await handlers.arena.tree({ who: 'p1' }, { label: 'n', children: [] }), { label: 'p1:n', children: [] });
  });
});
