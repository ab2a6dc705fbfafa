/**
 * The counting clients' WebSocket frame reader (loadgen/drivers/raw-ws.ts): frames of every
 * length class, split across chunks at every byte, come out whole and in order; a bad upgrade is
 * refused; a counting client's socket (JoinedRawWs) is open at the welcome and opens again. The
 * end-to-end path (a real gateway) is the mmo-move and mmo-aoi smoke tests.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { waitFor } from '@gos/testing';
import { WebSocketServer, type WebSocket } from 'ws';
import { FrameReader, JoinedRawWs, RawWs } from '../src/loadgen/drivers/raw-ws.js';

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

const WELCOME = 0x57;

/** A `ws` server on an ephemeral loopback port; `onConnection` plays the server's part. */
async function wsServer(onConnection: (socket: WebSocket) => void): Promise<{ url: string; server: WebSocketServer }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  server.on('connection', onConnection);
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

test('a joined socket opens at the welcome, takes the head asked for after it, and opens again without telling of the old close', async () => {
  const sockets: WebSocket[] = [];
  const { url, server } = await wsServer((socket) => {
    sockets.push(socket);
    // Something before the welcome, then the welcome; each client message is echoed back longer.
    socket.send(Uint8Array.of(0xaa, 1, 2, 3));
    socket.send(Uint8Array.of(WELCOME, sockets.length));
    socket.on('message', (data: Buffer) => socket.send(Buffer.concat([data, Buffer.alloc(10, 9)])));
  });
  const messages: Array<[number, number[], number]> = [];
  const closes: Array<[number, string]> = [];
  try {
    const ws = await JoinedRawWs.open(url, {
      isWelcome: (length, head, first) => first === WELCOME && length === 2 && head.length === 2,
      headBytes: 2,
      message: (length, head, first) => messages.push([length, [...head], first]),
      close: (code, reason) => closes.push([code, reason]),
    });
    // What came before the welcome came whole.
    assert.deepEqual(messages, [[4, [0xaa, 1, 2, 3], 0xaa]]);
    ws.send(Uint8Array.of(5, 6, 7));
    await waitFor(() => messages.length === 2, { timeoutMs: 5000, message: 'the echo' });
    assert.deepEqual(messages[1], [13, [5, 6], 5], 'after the welcome: the two bytes asked for');

    await ws.reopen();
    assert.equal(sockets.length, 2, 'a second connection');
    await waitFor(() => sockets[0]!.readyState === sockets[0]!.CLOSED, { timeoutMs: 5000, message: 'the first connection closed' });
    assert.deepEqual(closes, [], 'the close reopen caused goes nowhere');
    assert.equal(messages.length, 3, 'the second connection\'s first message');

    sockets[1]!.close(4000, 'bye');
    await waitFor(() => closes.length === 1, { timeoutMs: 5000, message: 'the close after the welcome' });
    assert.deepEqual(closes, [[4000, 'bye']]);
    ws.destroy();
  } finally {
    server.close();
  }
});

test('a joined socket closed before its welcome rejects with the close code', async () => {
  const { url, server } = await wsServer((socket) => socket.close(4001, 'full'));
  try {
    await assert.rejects(
      JoinedRawWs.open(url, { isWelcome: () => true, headBytes: 0, message: () => {}, close: () => assert.fail('no close after a failed open') }),
      /closed before welcome: 4001 full/,
    );
  } finally {
    server.close();
  }
});
