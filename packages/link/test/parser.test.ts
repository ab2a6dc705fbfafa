import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '@gos/schema';
import { FrameParser, encodeLinkFrame, LINK_FRAME_HEADER_BYTES, type LinkFrame } from '../src/frame.js';
import { bodyFor, bodyMatches } from './helpers.js';

function frames(count: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) parts.push(encodeLinkFrame(16 + (i % 200), i * 2654435761 >>> 0, bodyFor(i)));
  return Buffer.concat(parts);
}

function parseChunks(chunks: Iterable<Buffer>, max = 1 << 20): LinkFrame[] {
  const parser = new FrameParser(max);
  const out: LinkFrame[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let f = parser.next(); f !== null; f = parser.next()) out.push(f);
  }
  assert.equal(parser.bufferedBytes, 0);
  return out;
}

function check(out: LinkFrame[], count: number): void {
  assert.equal(out.length, count);
  for (let i = 0; i < count; i++) {
    const f = out[i]!;
    assert.equal(f.type, 16 + (i % 200));
    assert.equal(f.channel, i * 2654435761 >>> 0);
    assert.ok(bodyMatches(i, f.body), `body ${i} intact`);
  }
}

function* split(data: Buffer, sizes: () => number): Generator<Buffer> {
  for (let at = 0; at < data.length; ) {
    const n = Math.max(1, sizes());
    yield data.subarray(at, at + n);
    at += n;
  }
}

test('parser: many frames in one chunk', () => {
  const data = frames(500);
  check(parseChunks([data]), 500);
});

test('parser: every frame split into 1-byte chunks', () => {
  const data = frames(100); // includes two 200 KB frames, each arriving as 200 000 chunks
  check(parseChunks(split(data, () => 1)), 100);
});

test('parser: random chunk boundaries, headers split everywhere', () => {
  let seed = 42;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 37) + 1;
  const data = frames(2000);
  check(parseChunks(split(data, () => rand() * 50)), 2000);
  const small = frames(120);
  for (const size of [2, 3, 4, 5, 8, 9, 10, 4096, 65536]) check(parseChunks(split(small, () => size)), 120);
  check(parseChunks(split(small, rand)), 120);
});

test('parser: a frame inside one chunk is a view, a spanning frame a copy', () => {
  const data = Buffer.concat([encodeLinkFrame(16, 1, Buffer.from('abc')), encodeLinkFrame(17, 2, Buffer.from('defgh'))]);
  const parser = new FrameParser(1024);
  parser.push(data.subarray(0, 14));
  const first = parser.next();
  assert.ok(first !== null);
  assert.equal(first.body.buffer, data.buffer, 'zero-copy view');
  assert.equal(parser.next(), null);
  parser.push(data.subarray(14));
  const second = parser.next();
  assert.ok(second !== null);
  assert.equal(Buffer.from(second.body).toString(), 'defgh');
});

test('parser: empty body and zero-length chunks', () => {
  const data = encodeLinkFrame(20, 0xffffffff, new Uint8Array(0));
  assert.equal(data.length, LINK_FRAME_HEADER_BYTES);
  const out = parseChunks([Buffer.alloc(0), data.subarray(0, 3), Buffer.alloc(0), data.subarray(3)]);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.channel, 0xffffffff);
  assert.equal(out[0]!.body.length, 0);
});

test('parser: oversized frame is refused as soon as its length is known', () => {
  const parser = new FrameParser(1024);
  const header = Buffer.alloc(4);
  header.writeUInt32LE(1021); // 4 + 1021 = 1025 > 1024
  parser.push(header.subarray(0, 2));
  assert.equal(parser.next(), null);
  parser.push(header.subarray(2));
  assert.throws(() => parser.next(), { code: ErrorCodes.LNK_ERR_FRAME_TOO_LARGE });
  const ok = new FrameParser(1024);
  ok.push(encodeLinkFrame(16, 0, new Uint8Array(1024 - LINK_FRAME_HEADER_BYTES)));
  assert.ok(ok.next() !== null, 'a frame of exactly maxFrameBytes passes');
});

test('parser: a length shorter than type + channel is a bad frame', () => {
  const parser = new FrameParser(1024);
  parser.push(Buffer.from([4, 0, 0, 0, 16, 0, 0, 0]));
  assert.throws(() => parser.next(), { code: ErrorCodes.SCH_ERR_BAD_FRAME });
});
