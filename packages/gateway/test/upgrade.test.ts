/**
 * Client upgrades over raw TCP on a real gateway: the socket is upgraded at once and its token
 * checked once open. A valid token with any `Connection` header gets its PONG (uWebSockets.js
 * v20.30 closed a socket upgraded after the session lookup without a close frame: every time
 * with `Connection: close`, now and then with a normal handshake); a bad token gets its close
 * code; frames sent before the answer wait and are answered in order; too many of them flood.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { MemoryCoordinator } from '@gos/coordinator';
import { CloseCode, FrameKind, coreProtocol, encodeFrame } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { Gateway, MemorySessionStore } from '../src/index.js';

const store = new SqliteStore({ file: ':memory:' });
const coordinator = new MemoryCoordinator();
/** The session store, its lookups slowed by `lookupDelayMs` (frames then surely arrive before the answer). */
class SlowSessions extends MemorySessionStore {
  lookupDelayMs = 0;
  override async get(...args: Parameters<MemorySessionStore['get']>): ReturnType<MemorySessionStore['get']> {
    if (this.lookupDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.lookupDelayMs));
    return super.get(...args);
  }
}
const sessions = new SlowSessions();
const gateway = new Gateway({ gatewayId: 'gw-upgrade', clusterSecret: 'upgrade-test-secret-16', coordinator, store, sessions, protocol: coreProtocol, port: 0, scryptCost: 1024 });

before(async () => {
  await store.start();
  await sessions.start();
  await gateway.start();
});
after(async () => {
  await gateway.close();
  await sessions.close();
  await store.close();
  await coordinator.close();
});

async function guestToken(): Promise<string> {
  const res = await fetch(`${gateway.httpUrl}/v1/auth/guest`, { method: 'POST' });
  assert.equal(res.status, 200);
  return ((await res.json()) as { token: string }).token;
}

/** A masked client frame (RFC 6455) carrying `payload` as a binary message. */
function clientFrame(payload: Uint8Array): Buffer {
  const mask = Buffer.from([7, 1, 9, 3]);
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]);
}

interface Outcome {
  readonly status: string | null;
  /** `pong <requestId>` for each PONG frame, `close <code>` for a close frame. */
  readonly frames: string[];
  readonly how: 'server closed the TCP connection' | 'still open' | 'got them';
}

/**
 * Upgrade with `connection` as the Connection header, then send `pings` PING frames (request
 * ids 1, 2, …) at once; collect what comes back until `expect` frames came, the server closes,
 * or `waitMs` passes. (No engine serves this gateway: a socket it accepts is closed with 4011
 * once routing gives up, so only the first frames tell.)
 */
function rawSocket(query: string, connection: string, pings: number, expect: number, waitMs = 3000): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(gateway.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let status: string | null = null;
    const frames: string[] = [];
    const finish = (how: Outcome['how']): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status, frames, how });
    };
    const timer = setTimeout(() => finish('still open'), waitMs);
    socket.on('connect', () => {
      socket.write(`GET /ws${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: ${connection}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (status === null) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = buf.subarray(0, end).toString().split('\r\n')[0]!;
        buf = buf.subarray(end + 4);
        if (status.startsWith('HTTP/1.1 101')) for (let id = 1; id <= pings; id++) socket.write(clientFrame(encodeFrame(FrameKind.PING, 0, id, null)));
      }
      while (buf.length >= 2 && (buf[1]! & 0x7f) < 126 && buf.length >= 2 + (buf[1]! & 0x7f)) {
        const len = buf[1]! & 0x7f;
        const body = buf.subarray(2, 2 + len);
        const opcode = buf[0]! & 0x0f;
        if (opcode === 8) frames.push(`close ${body.readUInt16BE(0)}`);
        else if ((body[0]! & 7) === FrameKind.PONG) frames.push(`pong ${body.readUInt32LE(4)}`);
        else frames.push(`frame ${body[0]! & 7}`);
        buf = buf.subarray(2 + len);
      }
      if (frames.length >= expect) finish('got them');
    });
    socket.on('end', () => finish('server closed the TCP connection'));
    socket.on('error', () => finish('server closed the TCP connection'));
  });
}

const query = (token: string): string => `?token=${encodeURIComponent(token)}&v=${coreProtocol.version}`;

test('a valid token gets its PONG whatever the Connection header (no close without a close frame)', async () => {
  // With the session store answering at once, and a little later (as Redis does).
  for (const delayMs of [0, 20]) {
    sessions.lookupDelayMs = delayMs;
    try {
      for (const connection of ['Upgrade', 'keep-alive, Upgrade', 'close', 'close']) {
        const outcome = await rawSocket(query(await guestToken()), connection, 1, 1);
        const what = `Connection: ${connection}, lookup ${delayMs} ms: ${JSON.stringify(outcome)}`;
        assert.equal(outcome.status, 'HTTP/1.1 101 Switching Protocols', what);
        assert.deepEqual(outcome.frames, ['pong 1'], what);
        assert.equal(outcome.how, 'got them', what);
      }
    } finally {
      sessions.lookupDelayMs = 0;
    }
  }
});

test('frames sent before the token is checked wait, and are answered in order; more than maxFramesBeforeRoute is a flood', async () => {
  sessions.lookupDelayMs = 200;
  try {
    const outcome = await rawSocket(query(await guestToken()), 'Upgrade', 5, 5);
    assert.deepEqual(outcome.frames, ['pong 1', 'pong 2', 'pong 3', 'pong 4', 'pong 5']);
    // 128 by default.
    const flood = await rawSocket(query(await guestToken()), 'Upgrade', 129, 1);
    assert.deepEqual(flood.frames, [`close ${CloseCode.RATE_LIMITED}`], 'refused before any PONG');
  } finally {
    sessions.lookupDelayMs = 0;
  }
});

test('a bad or missing token is refused with its close code once open, without a PONG', async () => {
  const bad = await rawSocket(query('not-a-token'), 'Upgrade', 1, 1);
  assert.equal(bad.status, 'HTTP/1.1 101 Switching Protocols');
  assert.deepEqual(bad.frames, [`close ${CloseCode.AUTH_INVALID}`], 'no PONG before the refusal');
  const none = await rawSocket(`?v=${coreProtocol.version}`, 'close', 1, 1);
  assert.deepEqual(none.frames, [`close ${CloseCode.AUTH_REQUIRED}`]);
});
