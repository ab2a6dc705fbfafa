import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_HEADER_BYTES, FrameFlag, FrameKind, allowedFrameFlags, encodeFrame, framePayload, readFrameHeader } from '../src/index.js';

describe('wire frames', () => {
  it('round-trips every kind with header fields at their limits', () => {
    const payload = new Uint8Array([9, 8, 7]);
    for (const kind of Object.values(FrameKind)) {
      for (const [opcode, requestId] of [
        [0, 0],
        [1, 1],
        [65535, 0xffffffff],
        [65281, 123456789],
      ] as const) {
        const frame = encodeFrame(kind, opcode, requestId, payload);
        assert.equal(frame.byteLength, FRAME_HEADER_BYTES + payload.byteLength);
        assert.deepEqual(readFrameHeader(frame), { kind, flags: 0, opcode, requestId });
        assert.deepEqual(framePayload(frame), payload);
      }
    }
  });

  it('encodes the documented little-endian layout', () => {
    const frame = encodeFrame(FrameKind.REQUEST, 0x0102, 0x03040506, new Uint8Array([0xaa]));
    assert.deepEqual([...frame], [1, 0, 0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0xaa]);
  });

  it('allows NO_REPLY on a REQUEST only; every other flag bit is reserved', () => {
    assert.equal(allowedFrameFlags(FrameKind.REQUEST), FrameFlag.NO_REPLY);
    for (const kind of Object.values(FrameKind)) if (kind !== FrameKind.REQUEST) assert.equal(allowedFrameFlags(kind), 0, `kind ${kind}`);
  });

  it('a null payload makes a bare header', () => {
    const frame = encodeFrame(FrameKind.RESPONSE, 3, 4, null);
    assert.equal(frame.byteLength, FRAME_HEADER_BYTES);
    assert.equal(framePayload(frame).byteLength, 0);
    assert.deepEqual(readFrameHeader(frame), { kind: FrameKind.RESPONSE, flags: 0, opcode: 3, requestId: 4 });
  });

  it('wraps negative and oversized request ids to u32', () => {
    assert.equal(readFrameHeader(encodeFrame(FrameKind.REQUEST, 1, -1, null))?.requestId, 0xffffffff);
  });

  it('reads a header from a subarray at an odd offset', () => {
    const frame = encodeFrame(FrameKind.PUSH, 65282, 0, new Uint8Array([1, 2]));
    const buf = new Uint8Array(frame.byteLength + 3);
    buf.set(frame, 3);
    const view = buf.subarray(3);
    assert.deepEqual(readFrameHeader(view), { kind: FrameKind.PUSH, flags: 0, opcode: 65282, requestId: 0 });
    assert.deepEqual([...framePayload(view)], [1, 2]);
  });

  it('rejects frames shorter than the header', () => {
    for (let n = 0; n < FRAME_HEADER_BYTES; n++) {
      const bytes = encodeFrame(FrameKind.PING, 0, 0, null).subarray(0, n);
      assert.equal(readFrameHeader(bytes), null, `${n} bytes`);
    }
  });

  it('rejects unknown kinds', () => {
    const kinds = new Set<number>(Object.values(FrameKind));
    for (let kind = 0; kind < 256; kind++) {
      const frame = encodeFrame(FrameKind.PING, 0, 0, null);
      frame[0] = kind;
      assert.equal(readFrameHeader(frame) === null, !kinds.has(kind), `kind ${kind}`);
    }
  });
});
