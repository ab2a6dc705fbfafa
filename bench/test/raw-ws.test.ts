/**
 * The counting clients' WebSocket frame reader (loadgen/drivers/raw-ws.ts): frames of every
 * length class, split across chunks at every byte, come out whole and in order; a bad upgrade is
 * refused. The end-to-end path (a real gateway) is the mmo-aoi smoke test.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { FrameReader, RawWs } from '../src/loadgen/drivers/raw-ws.js';

/** A server frame (unmasked, FIN) of `opcode` around `payload`. */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? [0x80 | opcode, n] : n <= 0xffff ? [0x80 | opcode, 126, n >>> 8, n & 0xff] : [0x80 | opcode, 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

const payload = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

test('frames of every length, split at any byte, come out whole, with their first byte and the head asked for', () => {
  const sizes = [0, 1, 8, 125, 126, 300, 65535, 70000];
  const stream = new Uint8Array(sizes.reduce((n, s) => n + frame(2, payload(s, s)).length, 0) + 3);
  let at = 0;
  for (const s of sizes) {
    const f = frame(2, payload(s, s));
    stream.set(f, at);
    at += f.length;
  }
  stream.set(frame(9, new Uint8Array(1)), at); // a ping with one byte
  for (const step of [1, 2, 3, 7, 64, 1000, stream.length]) {
    const got: Array<[number, number, number, number]> = [];
    const reader = new FrameReader(
      (opcode) => (opcode === 2 ? 8 : 125),
      (opcode, length, head, first) => {
        if (opcode === 2 && length > 0) assert.deepEqual(head, payload(length, length).subarray(0, 8), `head of ${length}`);
        got.push([opcode, length, head.length, first]);
      },
    );
    for (let i = 0; i < stream.length; i += step) reader.push(stream.subarray(i, i + step));
    assert.deepEqual(
      got,
      [...sizes.map((s): [number, number, number, number] => [2, s, Math.min(s, 8), s === 0 ? -1 : s & 0xff]), [9, 1, 1, 0]],
      `chunks of ${step}`,
    );
  }
});

test('a server answering the upgrade with the wrong accept key is refused', async () => {
  const server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handlers = { message: () => {}, close: () => {} };
  try {
    await assert.rejects(RawWs.open(`ws://127.0.0.1:${port}/`, handlers, () => Number.MAX_SAFE_INTEGER), /upgrade refused: HTTP\/1\.1 101/);
  } finally {
    server.close();
  }
});
