/** Decode treats bytes as hostile: every malformed buffer becomes SCH_ERR_BAD_PAYLOAD, nothing else. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Builder } from 'flatbuffers';
import { seededRandom } from '@gos/testing';
import { CodedError, ErrorCodes, ErrorReplyCodec, MAX_TABLE_DEPTH, type Codec } from '../src/index.js';
import { EverythingCodec, Facing, Level, NodeCodec, type Everything, type Node } from './generated/protocol.js';

const sample: Everything = {
  scalars: { b: true, i8: -1, u8: 2, i16: -3, u16: 4, i32: -5, u32: 6, i64: -7n, u64: 8n, f32: 0.5, f64: 0.25 },
  name: 'name',
  blob: new Uint8Array([1, 2, 3]),
  pos: { x: 1, y: 2 },
  facing: Facing.East,
  level: Level.High,
  tags: ['x', 'yz'],
  path: [{ x: 5, y: 6 }],
  ints: [1, 2],
  bigs: [3n],
  ubigs: [4n],
  flags: [true],
  facings: [Facing.South],
  levels: [Level.Low],
  doubles: [1.5],
  small: [-2],
  shorts: [9],
  floats: [2.5],
};

function isBadPayload(err: unknown): boolean {
  return err instanceof CodedError && err.code === ErrorCodes.SCH_ERR_BAD_PAYLOAD;
}

/** Decode must either succeed or throw SCH_ERR_BAD_PAYLOAD. Returns whether it threw. */
function decodeSafely<T>(codec: Codec<T>, bytes: Uint8Array): boolean {
  try {
    codec.decode(bytes);
    return false;
  } catch (err) {
    assert.ok(isBadPayload(err), `decode of ${bytes.length} bytes threw ${String(err)}`);
    return true;
  }
}


describe('hostile payloads', () => {
  it('rejects empty and short buffers', () => {
    for (const n of [0, 1, 4, 7]) {
      assert.throws(() => ErrorReplyCodec.decode(new Uint8Array(n)), (err) => isBadPayload(err) && /shorter than 8/.test((err as Error).message));
    }
  });

  it('rejects values that are not a Uint8Array', () => {
    assert.throws(() => ErrorReplyCodec.decode('nope' as unknown as Uint8Array), isBadPayload);
  });

  it('rejects every truncation of a valid buffer that loses data', () => {
    const cases: [Codec<unknown>, unknown][] = [
      [EverythingCodec, sample],
      [ErrorReplyCodec, { code: 'CODE', message: 'message', retryable: true }],
    ];
    for (const [codec, value] of cases) {
      const bytes = codec.encode(value);
      let rejected = 0;
      for (let n = 0; n < bytes.length; n++) {
        // Only trailing alignment padding may go: the decode is then still exact, never garbage.
        let decoded: unknown;
        try {
          decoded = codec.decode(bytes.slice(0, n));
        } catch (err) {
          assert.ok(isBadPayload(err), `prefix of ${n} bytes threw ${String(err)}`);
          rejected++;
          continue;
        }
        assert.deepEqual(decoded, value, `prefix of ${n}/${bytes.length} bytes decoded to something else`);
        assert.ok(bytes.length - n < 8, `prefix of ${n}/${bytes.length} bytes decoded`);
      }
      assert.ok(rejected >= bytes.length - 7);
    }
  });

  it('rejects a root offset or vtable outside the buffer', () => {
    const bytes = ErrorReplyCodec.encode({ code: 'a', message: 'b', retryable: false });
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const badRoot = bytes.slice();
    new DataView(badRoot.buffer).setUint32(0, 0xfffffff0, true);
    assert.throws(() => ErrorReplyCodec.decode(badRoot), /root offset/);
    const badVtable = bytes.slice();
    const root = view.getUint32(0, true);
    new DataView(badVtable.buffer).setInt32(root, -100000, true);
    assert.throws(() => ErrorReplyCodec.decode(badVtable), /vtable/);
  });

  it('survives random garbage and random bit flips', () => {
    const next = seededRandom(0x5eed);
    const valid = EverythingCodec.encode(sample);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const garbage = new Uint8Array(Math.floor(next() * 200));
      for (let k = 0; k < garbage.length; k++) garbage[k] = Math.floor(next() * 256);
      if (decodeSafely(EverythingCodec, garbage)) rejected++;
      const flipped = valid.slice();
      for (let k = 0; k < 3; k++) {
        const at = Math.floor(next() * flipped.length);
        flipped[at] = flipped[at]! ^ (1 << Math.floor(next() * 8));
      }
      decodeSafely(EverythingCodec, flipped);
    }
    assert.ok(rejected > 2500, `only ${rejected} of 3000 garbage buffers were rejected`);
  });

  it('rejects strings that are not UTF-8, in string fields and string vectors; keeps valid ones', () => {
    /** Encode with `marker` in a string, then overwrite the marker's bytes in place. */
    const corrupt = <T>(codec: Codec<T>, value: T, marker: string, bytes: number[]): Uint8Array => {
      const buf = codec.encode(value);
      const at = Buffer.from(buf).indexOf(marker);
      assert.ok(at >= 0 && bytes.length <= marker.length);
      buf.set([...bytes, ...Array<number>(marker.length - bytes.length).fill(0x41)], at);
      return buf;
    };
    const invalid: [string, number[]][] = [
      ['lone continuation byte', [0x80]],
      ['0xff', [0x41, 0xff]],
      ['bad continuation', [0xc3, 0x28]],
      ['overlong "/"', [0xc0, 0xaf]],
      ['UTF-16 surrogate', [0xed, 0xa0, 0x80]],
      ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
      ['truncated at the end', [0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0xe2, 0x82]],
    ];
    const marker = 'MARKERMARKE';
    for (const [what, bytes] of invalid) {
      const field = corrupt(ErrorReplyCodec, { code: marker, message: 'ok', retryable: false }, marker, bytes);
      assert.throws(() => ErrorReplyCodec.decode(field), (err) => isBadPayload(err) && /not valid UTF-8/.test((err as Error).message), `field: ${what}`);
      const vector = corrupt(EverythingCodec, { ...sample, tags: ['fine', marker] }, marker, bytes);
      assert.throws(() => EverythingCodec.decode(vector), (err) => isBadPayload(err) && /not valid UTF-8/.test((err as Error).message), `vector: ${what}`);
    }
    // Valid multi-byte text, and NUL or bidi controls (valid UTF-8: cleaning them is the game's job).
    const text = 'é ß → 😀 \u0000 \u202e';
    assert.equal(ErrorReplyCodec.decode(ErrorReplyCodec.encode({ code: text, message: `${text}${text}`, retryable: false })).code, text);
    assert.deepEqual(EverythingCodec.decode(EverythingCodec.encode({ ...sample, tags: [text, 'x'] })).tags, [text, 'x']);
  });

  it('rejects nesting deeper than MAX_TABLE_DEPTH', () => {
    let node: Node = { label: 'leaf', children: [] };
    for (let i = 0; i < MAX_TABLE_DEPTH + 5; i++) node = { label: String(i), children: [node] };
    const bytes = NodeCodec.encode(node);
    assert.throws(() => NodeCodec.decode(bytes), (err) => isBadPayload(err) && /too deep/.test((err as Error).message));
  });

  it('bounds the work on DAG-shaped buffers (shared sub-tables)', () => {
    // Each level is a vector of 200 offsets to the same table: 200^4 paths in under 4 KB.
    const b = new Builder(1024);
    const label = b.createString('x');
    b.startObject(2);
    b.addFieldOffset(0, label, 0);
    let table = b.endObject();
    for (let level = 0; level < 4; level++) {
      b.startVector(4, 200, 4);
      for (let i = 0; i < 200; i++) b.addOffset(table);
      const children = b.endVector();
      b.startObject(2);
      b.addFieldOffset(0, label, 0);
      b.addFieldOffset(1, children, 0);
      table = b.endObject();
    }
    b.finish(table);
    const bytes = b.asUint8Array();
    const started = performance.now();
    assert.throws(() => NodeCodec.decode(bytes), (err) => isBadPayload(err) && /too many objects/.test((err as Error).message));
    assert.ok(performance.now() - started < 1000);
  });
});
