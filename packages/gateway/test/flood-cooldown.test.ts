/**
 * A flood's cool-down holds across the gateways of a cluster: after a socket is closed with 4006,
 * the same account connecting to another gateway that shares the session store (memory in one
 * process, Redis between processes) is refused for the cool-down, instead of getting a fresh
 * burst there. Real gateways and sockets; no engine is needed (the flood is cut before routing).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { MemoryCoordinator } from '@gos/coordinator';
import { CloseCode, ErrorCodes, FrameKind, WS_QUERY_TOKEN, WS_QUERY_VERSION, coreProtocol, encodeFrame } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { waitFor } from '@gos/testing';
import { Gateway, MemorySessionStore, RedisSessionStore, type Session, type SessionStore } from '../src/index.js';

const redisUrl = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

interface Closed {
  code: number;
  reason: string;
}

/** Open a socket with `token` on `gateway`; resolves with how it was closed once it is. */
function open(gateway: Gateway, token: string): { ws: WebSocket; closed: Promise<Closed> } {
  const ws = new WebSocket(`${gateway.publicUrl}?${WS_QUERY_TOKEN}=${token}&${WS_QUERY_VERSION}=${coreProtocol.version}`);
  ws.on('error', () => {});
  const closed = new Promise<Closed>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, closed };
}

async function withTwoGateways(sessions: SessionStore, body: (a: Gateway, b: Gateway) => Promise<void>): Promise<void> {
  const coordinator = new MemoryCoordinator();
  const store = new SqliteStore({ file: ':memory:' });
  await store.start();
  await sessions.start();
  const shared = { clusterSecret: 'flood-cooldown-test-secret', coordinator, store, sessions, protocol: coreProtocol, port: 0, scryptCost: 1024, limits: { rateLimitCooldownMs: 3000 } };
  const a = new Gateway({ ...shared, gatewayId: 'gw-a' });
  const b = new Gateway({ ...shared, gatewayId: 'gw-b' });
  try {
    await a.start();
    await b.start();
    await body(a, b);
  } finally {
    await a.close();
    await b.close();
    await sessions.close();
    await store.close();
    await coordinator.close();
  }
}

const backends: Array<[string, () => SessionStore]> = [
  ['memory', () => new MemorySessionStore()],
  ['redis', () => new RedisSessionStore({ url: redisUrl, keyPrefix: `gos-test-flood-${randomBytes(4).toString('hex')}:` })],
];

for (const [backend, makeSessions] of backends) {
  describe(`flood cool-down, sessions in ${backend}`, () => {
    test('a socket closed for flooding on one gateway: the account is refused on the other for the cool-down, then accepted', () =>
      withTwoGateways(makeSessions(), async (a, b) => {
        const res = await fetch(`${a.httpUrl}/v1/auth/guest`, { method: 'POST' });
        assert.equal(res.status, 200);
        const { token } = (await res.json()) as { token: string };

        const flooder = open(a, token);
        await new Promise<void>((resolve) => flooder.ws.once('open', () => resolve()));
        // Far past the account's burst (120) at once: even a gateway slowed down by a busy machine (refilling 60 a second) sees the flood before anything else.
        const ping = encodeFrame(FrameKind.PING, 0, 1, null);
        for (let i = 0; i < 3000 && flooder.ws.readyState === WebSocket.OPEN; i++) flooder.ws.send(ping);
        const flood = await flooder.closed;
        assert.equal(flood.code, CloseCode.RATE_LIMITED);

        // The same account on the other gateway: refused, and told how long to wait.
        const elsewhere = await open(b, token).closed;
        assert.equal(elsewhere.code, CloseCode.RATE_LIMITED);
        assert.match(elsewhere.reason, new RegExp(`^${ErrorCodes.GW_ERR_RATE_LIMITED}: cooling down after a flood; retry in \\d+ ms$`));
        const waitMs = Number(/retry in (\d+) ms/.exec(elsewhere.reason)![1]);
        assert.ok(waitMs > 0 && waitMs <= 3000, `${waitMs} ms left of a 3000 ms cool-down`);

        // Once it has passed, the account is welcome there again: its socket stays open and answers.
        await waitFor(
          async () => {
            const { ws, closed } = open(b, token);
            const pong = await Promise.race([
              new Promise<boolean>((resolve) => {
                ws.once('open', () => ws.send(encodeFrame(FrameKind.PING, 0, 2, null)));
                ws.once('message', () => resolve(true));
              }),
              closed.then(() => false),
            ]);
            ws.close();
            return pong;
          },
          { timeoutMs: 8000, intervalMs: 500, message: 'the account to be accepted after its cool-down' },
        );
      }));
  });
}

/** The memory store, whose token lookups can be made to wait: a socket's frames then arrive while it is `authenticating`. */
class HeldLookups extends MemorySessionStore {
  #gate: Promise<void> | null = null;
  #open: () => void = () => {};

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#gate = null;
    this.#open();
  }

  override async get(token: string, options?: { readonly gatewayId?: string }): Promise<Session | null> {
    if (this.#gate !== null) await this.#gate;
    return super.get(token, options);
  }
}

test('a flood sent before the token is checked: nothing of it is handled, and once the token names the account it is cooled down on every gateway', () => {
  const sessions = new HeldLookups();
  return withTwoGateways(sessions, async (a, b) => {
    const res = await fetch(`${a.httpUrl}/v1/auth/guest`, { method: 'POST' });
    const { token } = (await res.json()) as { token: string };

    sessions.hold();
    const flooder = open(a, token);
    let answered = 0;
    flooder.ws.on('message', () => answered++);
    await new Promise<void>((resolve) => flooder.ws.once('open', () => resolve()));
    const ping = encodeFrame(FrameKind.PING, 0, 1, null);
    for (let i = 0; i < 3000; i++) flooder.ws.send(ping);
    await waitFor(() => flooder.ws.bufferedAmount === 0, { message: 'the flood to be written' });
    // An HTTP round trip to the same gateway, sent after the flood was in the kernel: the gateway has read the flood by its answer.
    assert.equal((await fetch(`${a.httpUrl}/healthz`)).status, 200);
    sessions.release();

    const flood = await flooder.closed;
    assert.deepEqual(flood, { code: CloseCode.RATE_LIMITED, reason: ErrorCodes.GW_ERR_RATE_LIMITED });
    assert.equal(answered, 0, 'no frame of the flood was handled (not one PONG)');
    const elsewhere = await open(b, token).closed;
    assert.equal(elsewhere.code, CloseCode.RATE_LIMITED);
    assert.match(elsewhere.reason, /cooling down after a flood; retry in \d+ ms$/);
  });
});
