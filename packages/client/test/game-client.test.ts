import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import WebSocket from 'ws';
import {
  CloseCode,
  CodedError,
  encodeErrorFrame,
  ErrorCodes,
  ErrorReplyCodec,
  FrameKind,
  SceneRestartedCodec,
  CORE_PUSH,
  type RouteDef,
} from '@gos/schema';
import { waitFor } from '@gos/testing';
import { ConnectionClosedError, GameClient, type GameClientOptions } from '../src/index.js';
import { clientFor, FakeGateway, leakedHandles, record, testProtocol, type Tick } from './helpers.js';

/** What the generated `createApi` needs (packages/schema codegen `ApiClient`). */
interface ApiClient {
  request(route: RouteDef, payload: unknown, opts?: { timeoutMs?: number }): Promise<unknown>;
}

function isClosed(code: number | null): (err: unknown) => boolean {
  return (err) => err instanceof ConnectionClosedError && err.code === ErrorCodes.CLI_ERR_CLOSED && err.closeCode === code;
}

test('connect() sends token and protocol version in the URL and resolves once the gateway answers', async () => {
  await using gw = await FakeGateway.start();
  await using client = clientFor(gw);
  const api: ApiClient = client; // structural fit for the generated createApi
  assert.equal(typeof api.request, 'function');
  const events = record(client);
  assert.equal(client.state, 'idle');
  await client.connect();
  assert.equal(client.state, 'open');
  const conn = await gw.connections(1);
  assert.equal(conn.url.pathname, '/ws');
  assert.equal(conn.url.searchParams.get('token'), 'tok-123');
  assert.equal(conn.url.searchParams.get('v'), '7');
  assert.equal(conn.pings.length, 1, 'the handshake PING');
  assert.deepEqual(events, [{ type: 'open', arg: { resumed: false } }]);
  await client.connect(); // already open: resolves at once
  assert.equal(gw.conns.length, 1);
});

test('requests are correlated by id with out-of-order replies', async () => {
  await using gw = await FakeGateway.start({
    onRequest: (conn) => {
      if (conn.requests.length < 3) return;
      for (const req of [...conn.requests].reverse()) {
        const { n } = JSON.parse(new TextDecoder().decode(req.payload)) as { n: number };
        conn.respond(req, { n: n * 10 });
      }
    },
  });
  await using client = clientFor(gw);
  await client.connect();
  const results = await Promise.all([1, 2, 3].map((n) => client.request(testProtocol.routes.echo, { n })));
  assert.deepEqual(results, [{ n: 10 }, { n: 20 }, { n: 30 }]);
  const conn = gw.conns[0]!;
  assert.deepEqual(
    conn.requests.map((r) => [r.header.opcode, r.header.requestId]),
    [
      [1, 1],
      [1, 2],
      [1, 3],
    ],
  );
  assert.equal(client.pendingRequests, 0);
});

test('fire-and-forget routes resolve on the empty RESPONSE acknowledgement', async () => {
  await using gw = await FakeGateway.start({ onRequest: (conn, req) => conn.respond(req, undefined) });
  await using client = clientFor(gw);
  await client.connect();
  const result: void = await client.request(testProtocol.routes.fire, { x: 1 });
  assert.equal(result, undefined);
});

test('ERROR frames reject with a CodedError carrying the server code and message', async () => {
  await using gw = await FakeGateway.start({
    onRequest: (conn, req) =>
      conn.send(FrameKind.ERROR, req.header.opcode, req.header.requestId, ErrorReplyCodec.encode({ code: 'ENG_ERR_NO_HANDLER', message: 'no handler for echo', retryable: false })),
  });
  await using client = clientFor(gw);
  await client.connect();
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 1 }), (err: unknown) => {
    const e = err as { code?: string; message?: string; name?: string; retryable?: boolean };
    return e.code === 'ENG_ERR_NO_HANDLER' && e.message === 'no handler for echo' && e.name === 'ServerError' && e.retryable === false && err instanceof CodedError;
  });
});

test('a retryable ERROR on an idempotent route sends the request again until it is answered', async () => {
  let refusals = 2;
  await using gw = await FakeGateway.start({
    onRequest: (conn, req) => {
      if (refusals-- > 0) conn.send(FrameKind.ERROR, req.header.opcode, req.header.requestId, encodeErrorFrame(0, 0, ErrorCodes.GW_ERR_SCENE_MOVED, 'engine lost').subarray(8));
      else conn.respond(req, JSON.parse(new TextDecoder().decode(req.payload)));
    },
  });
  await using client = clientFor(gw);
  await client.connect();
  assert.deepEqual(await client.request(testProtocol.routes.peek, { n: 7 }), { n: 7 });
  const conn = gw.conns[0]!;
  // Three times the same frame, same request id: refused, refused, answered.
  assert.equal(conn.requests.length, 3);
  assert.deepEqual(new Set(conn.requests.map((r) => r.header.requestId)).size, 1);
  assert.equal(client.pendingRequests, 0);
});

test('a retryable ERROR on a route not marked idempotent reaches the caller with retryable: true', async () => {
  await using gw = await FakeGateway.start({
    onRequest: (conn, req) => conn.send(FrameKind.ERROR, req.header.opcode, req.header.requestId, encodeErrorFrame(0, 0, ErrorCodes.GW_ERR_SCENE_MOVED, 'engine lost').subarray(8)),
  });
  await using client = clientFor(gw);
  await client.connect();
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 1 }), { code: ErrorCodes.GW_ERR_SCENE_MOVED, retryable: true });
  assert.equal(gw.conns[0]!.requests.length, 1);
});

test('an idempotent request refused again and again still ends at its timeout', async () => {
  await using gw = await FakeGateway.start({
    onRequest: (conn, req) => conn.send(FrameKind.ERROR, req.header.opcode, req.header.requestId, encodeErrorFrame(0, 0, ErrorCodes.GW_ERR_NO_ENGINE, 'resuming').subarray(8)),
  });
  await using client = clientFor(gw);
  await client.connect();
  // Sends are planned at 0, 50, 150, 350 and 750 ms: three of them arrive within the 1.5 s timeout
  // even on a loaded machine (a 300 ms timeout left CI one stalled round trip of slack).
  const started = performance.now();
  await assert.rejects(client.request(testProtocol.routes.peek, { n: 1 }, { timeoutMs: 1500 }), { code: ErrorCodes.CLI_ERR_TIMEOUT });
  assert.ok(performance.now() - started >= 1490, 'it ends at its timeout, not at a retry');
  assert.ok(gw.conns[0]!.requests.length >= 3, `sent ${gw.conns[0]!.requests.length} times`);
  assert.equal(client.pendingRequests, 0);
});

test('requests time out with CLI_ERR_TIMEOUT; a late answer is dropped quietly', async () => {
  await using gw = await FakeGateway.start();
  await using client = clientFor(gw, { requestTimeoutMs: 40 });
  const events = record(client);
  await client.connect();
  const started = performance.now();
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 1 }), { code: ErrorCodes.CLI_ERR_TIMEOUT });
  assert.ok(performance.now() - started >= 35);
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 2 }, { timeoutMs: 5 }), { code: ErrorCodes.CLI_ERR_TIMEOUT });
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 3 }, { timeoutMs: -1 }), { code: ErrorCodes.OPT_ERR_INVALID });
  const conn = gw.conns[0]!;
  conn.respond(conn.requests[0]!, { n: 1 });
  // An answer sent after the late one, on the same socket: once it is in, the late one was handled.
  const later = client.request(testProtocol.routes.echo, { n: 4 }, { timeoutMs: 2000 });
  conn.respond(await waitFor(() => conn.requests[2], { timeoutMs: 2000, message: 'the third request' }), { n: 4 });
  assert.deepEqual(await later, { n: 4 });
  assert.equal(client.pendingRequests, 0);
  assert.deepEqual(
    events.map((e) => e.type),
    ['open'],
  );
});

test('pushes reach typed listeners (on and onPush), including core pushes; unsubscribe works', async () => {
  await using gw = await FakeGateway.start();
  await using client = clientFor(gw);
  const ticks: number[] = [];
  const viaOn: Tick[] = [];
  const off = client.onPush('Tick', (tick) => ticks.push(tick.t));
  client.on('Tick', (tick) => viaOn.push(tick));
  const restarted: string[] = [];
  client.onPush('SceneRestarted', (s) => restarted.push(`${s.sceneId}:${s.reason}`));
  // @ts-expect-error not a push of the protocol
  assert.throws(() => client.onPush('Nope', () => {}), { code: ErrorCodes.OPT_ERR_INVALID });
  await client.connect();
  const conn = gw.conns[0]!;
  conn.push(100, { t: 1 });
  conn.push(100, { t: 2 });
  conn.send(FrameKind.PUSH, CORE_PUSH.SceneRestarted, 0, SceneRestartedCodec.encode({ sceneId: 'world-1', reason: 'crash' }));
  await waitFor(() => restarted.length === 1, { timeoutMs: 2000, message: 'the SceneRestarted push' });
  assert.deepEqual(ticks, [1, 2]);
  assert.deepEqual(viaOn, [{ t: 1 }, { t: 2 }]);
  assert.deepEqual(restarted, ['world-1:crash']);
  off();
  conn.push(100, { t: 3 });
  await waitFor(() => viaOn.length === 3, { timeoutMs: 2000, message: 'the third Tick' });
  assert.deepEqual(ticks, [1, 2]);
});

test('bad frames from the server become error events, never exceptions; the client keeps working', async () => {
  await using gw = await FakeGateway.start({
    onRequest: (conn, req) => {
      if (req.header.requestId === 1) conn.send(FrameKind.RESPONSE, req.header.opcode, 1, new TextEncoder().encode('{not json'));
      else conn.respond(req, { n: 5 });
    },
  });
  await using client = clientFor(gw);
  const events = record(client);
  client.onPush('Tick', () => {
    throw new Error('listener bug');
  });
  await client.connect();
  const conn = gw.conns[0]!;
  conn.raw(new Uint8Array([1, 2, 3])); // shorter than a header
  conn.raw(new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0])); // unknown kind
  conn.raw('a text frame');
  conn.push(999, {}); // unknown push id
  conn.send(FrameKind.PUSH, 100, 0, new TextEncoder().encode('{not json')); // decode failure
  conn.push(100, { t: 1 }); // listener throws
  conn.send(FrameKind.REQUEST, 1, 77, null); // servers do not send requests
  await waitFor(() => events.filter((e) => e.type === 'error').length === 7, { timeoutMs: 2000, message: '7 error events' });
  const before = events.length;
  const codes = events.flatMap((e) => (e.type === 'error' ? [(e.arg as { code?: string }).code ?? e.arg.message] : []));
  assert.deepEqual(codes, [
    ErrorCodes.SCH_ERR_BAD_FRAME,
    ErrorCodes.SCH_ERR_BAD_FRAME,
    ErrorCodes.SCH_ERR_BAD_FRAME,
    ErrorCodes.SCH_ERR_BAD_FRAME,
    ErrorCodes.SCH_ERR_BAD_PAYLOAD,
    'listener bug',
    ErrorCodes.SCH_ERR_BAD_FRAME,
  ]);
  // A response that does not decode rejects its request (and is reported too).
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 1 }), { code: ErrorCodes.SCH_ERR_BAD_PAYLOAD });
  assert.equal(events.length, before + 1);
  assert.equal(events.at(-1)?.type, 'error');
  assert.deepEqual(await client.request(testProtocol.routes.echo, { n: 2 }), { n: 5 });
  assert.equal(client.state, 'open');
});

test('PING frames are sent every pingIntervalMs and their PONGs give the round-trip time', async () => {
  await using gw = await FakeGateway.start();
  await using client = clientFor(gw, { pingIntervalMs: 15 });
  await client.connect();
  const conn = gw.conns[0]!;
  await waitFor(() => conn.pings.length >= 4, { timeoutMs: 2000, message: '4 pings' });
  const ids = conn.pings.map((p) => p.header.requestId);
  assert.equal(new Set(ids).size, ids.length, 'each PING has its own id');
  assert.ok(conn.pings.every((p) => p.header.opcode === 0 && p.payload.byteLength === 0));
  assert.equal(typeof client.rttMs, 'number');
});

test('pingIntervalMs 0 sends no keep-alive pings', async () => {
  await using gw = await FakeGateway.start();
  await using client = clientFor(gw, { pingIntervalMs: 0 });
  await client.connect();
  // A duration, not a condition: no keep-alive PING within 40 ms (at 15 ms, there would be two).
  await setTimeout(40);
  assert.equal(gw.conns[0]!.pings.length, 1, 'only the handshake PING');
});

test('after the server drops the socket the client reconnects with the same token and resumes', async () => {
  // The first connection never answers; later ones answer with their index.
  await using gw = await FakeGateway.start({ onRequest: (conn, req) => gw.conns.indexOf(conn) > 0 && conn.respond(req, { n: gw.conns.indexOf(conn) }) });
  await using client = clientFor(gw);
  const events = record(client);
  await client.connect();
  const first = gw.conns[0]!;
  const pending = client.request(testProtocol.routes.echo, { n: 1 }, { timeoutMs: 5000 });
  await waitFor(() => first.requests.length === 1, { timeoutMs: 2000, message: 'the request on the first socket' });
  first.ws.terminate();
  await assert.rejects(pending, isClosed(1006));
  const second = await gw.connections(2);
  await waitFor(() => client.state === 'open', { timeoutMs: 2000, message: 'the client to be open again' });
  assert.equal(second.url.searchParams.get('token'), 'tok-123');
  assert.equal(second.url.searchParams.get('v'), '7');
  assert.deepEqual(
    events.map((e) => e.type),
    ['open', 'close', 'reconnecting', 'open'],
  );
  assert.deepEqual(events[1]!.arg, { code: 1006, reason: '', willReconnect: true });
  const reconnecting = events[2]!.arg as { attempt: number; delayMs: number };
  assert.equal(reconnecting.attempt, 1);
  assert.ok(reconnecting.delayMs >= 2 && reconnecting.delayMs <= 5, `delay ${reconnecting.delayMs} within [min/2, min]`);
  assert.deepEqual(events[3]!.arg, { resumed: true });
  assert.deepEqual(await client.request(testProtocol.routes.echo, { n: 2 }), { n: 1 });
});

test('a lost gateway: the client moves on to its fallback URLs in turn, same token, and resumes', async () => {
  await using a = await FakeGateway.start();
  await using b = await FakeGateway.start({ onRequest: (conn, req) => conn.respond(req, { n: 2 }) });
  await using client = clientFor(a, { fallbackUrls: [b.url] });
  const events = record(client);
  await client.connect();
  const first = await a.connections(1);
  // Gateway a dies: its socket is gone and nothing listens any more.
  assert.equal(first.url.searchParams.get('token'), 'tok-123');
  await a.close();
  const onB = await b.connections(1);
  await waitFor(() => client.state === 'open', { timeoutMs: 2000, message: 'the client to be open on b' });
  assert.equal(onB.url.searchParams.get('token'), 'tok-123');
  assert.deepEqual(events.at(-1), { type: 'open', arg: { resumed: true } });
  assert.deepEqual(await client.request(testProtocol.routes.echo, { n: 1 }), { n: 2 });
  // A gateway shutting down (4010) sends it on to the next URL, wrapping around the list.
  onB.ws.close(CloseCode.SERVER_SHUTDOWN, 'shutting down');
  await waitFor(() => client.state === 'reconnecting', { timeoutMs: 2000, message: 'the client to reconnect' });
  assert.equal(b.conns.length, 1, 'not back to the gateway that is shutting down first');
});

test('a first connect() whose gateway is gone tries the fallback URLs at once; a refusal is not tried elsewhere', async () => {
  const dead = await FakeGateway.start();
  const deadUrl = dead.url;
  await dead.close();
  await using b = await FakeGateway.start({ onRequest: (conn, req) => conn.respond(req, { n: 3 }) });
  // Login named a gateway that died a moment ago; the second one takes the player.
  await using client = new GameClient({ url: deadUrl, token: 'tok-1', protocol: testProtocol, WebSocket, fallbackUrls: [b.url] });
  const events = record(client);
  await client.connect();
  assert.equal((await b.connections(1)).url.searchParams.get('token'), 'tok-1');
  assert.deepEqual(await client.request(testProtocol.routes.echo, { n: 1 }), { n: 3 });
  assert.deepEqual(events.map((e) => e.type), ['open'], 'no close or reconnecting event for the unreachable one');

  // A gateway that refuses the token: final, the fallback is not asked.
  await using refusing = await FakeGateway.start({ onConnection: (conn) => conn.ws.close(CloseCode.AUTH_INVALID, 'GW_ERR_SESSION_EXPIRED') });
  await using c = await FakeGateway.start();
  await using client2 = new GameClient({ url: refusing.url, token: 't', protocol: testProtocol, WebSocket, fallbackUrls: [c.url] });
  await assert.rejects(client2.connect(), isClosed(CloseCode.AUTH_INVALID));
  // A duration, not a condition: the fallback gets no connection within 30 ms.
  await setTimeout(30);
  assert.equal(c.conns.length, 0);

  // Every gateway unreachable: rejected once each was tried.
  await using client3 = new GameClient({ url: deadUrl, token: 't', protocol: testProtocol, WebSocket, fallbackUrls: [deadUrl] });
  await assert.rejects(client3.connect(), isClosed(1006));
  assert.equal(client3.state, 'idle');
});

test('fallbackUrls must be URLs', () => {
  assert.throws(() => new GameClient({ url: 'ws://a/ws', token: 't', protocol: testProtocol, WebSocket, fallbackUrls: ['ws://b/ws', ''] }), { code: 'OPT_ERR_INVALID', message: /fallbackUrls/ });
  assert.throws(() => new GameClient({ url: 'ws://a/ws', token: 't', protocol: testProtocol, WebSocket, fallbackUrls: ['not a url'] }), { code: 'OPT_ERR_INVALID', message: /not a URL/ });
});

test('reconnect backs off exponentially through refused attempts and gives up after maxAttempts', async () => {
  let accept = true;
  await using gw = await FakeGateway.start({
    onConnection: (conn) => {
      if (!accept) conn.ws.close(CloseCode.ENGINE_UNAVAILABLE, 'engine down');
    },
  });
  await using client = clientFor(gw, { reconnect: { minDelayMs: 4, maxDelayMs: 16, maxAttempts: 4 } });
  const events = record(client);
  await client.connect();
  accept = false;
  gw.conns[0]!.ws.close(CloseCode.SERVER_SHUTDOWN, 'draining');
  await waitFor(() => events.some((e) => e.type === 'close' && !e.arg.willReconnect), { timeoutMs: 3000, message: 'final close' });
  const delays = events.flatMap((e) => (e.type === 'reconnecting' ? [[e.arg.attempt, e.arg.delayMs]] : []));
  assert.equal(delays.length, 4);
  const ceilings = [4, 8, 16, 16];
  delays.forEach(([attempt, delay], i) => {
    assert.equal(attempt, i + 1);
    assert.ok(delay! >= ceilings[i]! / 2 && delay! <= ceilings[i]!, `attempt ${attempt}: ${delay} ms`);
  });
  const closes = events.flatMap((e) => (e.type === 'close' ? [e.arg] : []));
  assert.deepEqual(closes[0], { code: CloseCode.SERVER_SHUTDOWN, reason: 'draining', willReconnect: true });
  assert.deepEqual(closes.at(-1), { code: CloseCode.ENGINE_UNAVAILABLE, reason: 'engine down', willReconnect: false });
  assert.equal(closes.length, 5);
  assert.equal(gw.conns.length, 5);
  assert.equal(client.state, 'idle');
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 1 }), isClosed(CloseCode.ENGINE_UNAVAILABLE));
  // connect() works again from idle once the server accepts.
  accept = true;
  await client.connect();
  assert.equal(client.state, 'open');
});

test('no reconnect after close code 4004 (session replaced) or any NO_RECONNECT code', async () => {
  for (const code of [CloseCode.SESSION_REPLACED, CloseCode.AUTH_INVALID, CloseCode.RATE_LIMITED, 1009]) {
    await using gw = await FakeGateway.start();
    await using client = clientFor(gw);
    const events = record(client);
    await client.connect();
    gw.conns[0]!.ws.close(code, 'bye');
    await waitFor(() => client.state === 'idle', { timeoutMs: 2000, message: `the client to be idle after ${code}` });
    // A duration, not a condition: no reconnect within 60 ms (more than the 40 ms maximum delay).
    await setTimeout(60);
    assert.equal(gw.conns.length, 1, `no reconnect after ${code}`);
    assert.deepEqual(
      events.map((e) => e.type),
      ['open', 'close'],
    );
    assert.deepEqual(events[1]!.arg, { code, reason: 'bye', willReconnect: false });
  }
});

test('close() closes with 1000, is idempotent, rejects pending requests and never reconnects', async () => {
  await using gw = await FakeGateway.start();
  const client = clientFor(gw);
  const events = record(client);
  await client.connect();
  const pending = client.request(testProtocol.routes.echo, { n: 1 });
  await waitFor(() => gw.conns[0]!.requests.length === 1, { timeoutMs: 2000, message: 'the request at the gateway' });
  const a = client.close();
  const b = client.close();
  assert.equal(a, b);
  assert.equal(client.state, 'closing');
  await assert.rejects(pending, isClosed(1000));
  await a;
  assert.equal(client.state, 'closed');
  await waitFor(() => gw.conns[0]!.closeCode !== undefined, { timeoutMs: 2000, message: 'the gateway to see the close' });
  assert.equal(gw.conns[0]!.closeCode, 1000);
  assert.deepEqual(events.at(-1), { type: 'close', arg: { code: 1000, reason: 'client closed', willReconnect: false } });
  await client.close();
  await assert.rejects(client.connect(), isClosed(null));
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 1 }), { code: ErrorCodes.CLI_ERR_CLOSED });
  // A duration, not a condition: no reconnect within 40 ms (the maximum reconnect delay).
  await setTimeout(40);
  assert.equal(gw.conns.length, 1);
});

test('close() while waiting to reconnect stops the reconnection', async () => {
  await using gw = await FakeGateway.start();
  // 300 ms: the test must reach close() before the delay ends, even on a loaded machine.
  const client = clientFor(gw, { reconnect: { minDelayMs: 300, maxDelayMs: 300 } });
  const events = record(client);
  await client.connect();
  const waiting = client.connect.bind(client);
  gw.conns[0]!.ws.terminate();
  await waitFor(() => client.state === 'reconnecting', { timeoutMs: 2000, message: 'the client to reconnect' });
  const next = waiting(); // resolves on the next open, or rejects on close()
  await client.close();
  await assert.rejects(next, { code: ErrorCodes.CLI_ERR_CLOSED });
  // A duration, not a condition: the 300 ms reconnect delay passes without a reconnect.
  await setTimeout(400);
  assert.equal(gw.conns.length, 1);
  assert.equal(client.state, 'closed');
  assert.deepEqual(
    events.map((e) => e.type),
    ['open', 'close', 'reconnecting'],
  );
});

test('close() from a close listener stops the reconnection', async () => {
  await using gw = await FakeGateway.start();
  const client = clientFor(gw);
  let closing: Promise<void> | undefined;
  client.on('close', () => {
    closing = client.close();
  });
  await client.connect();
  gw.conns[0]!.ws.terminate();
  await waitFor(() => closing !== undefined, { timeoutMs: 2000, message: 'the close listener to close' });
  await closing;
  // A duration, not a condition: no reconnect within 40 ms (the maximum reconnect delay).
  await setTimeout(40);
  assert.equal(client.state, 'closed');
  assert.equal(gw.conns.length, 1);
});

test('pending requests are rejected with CLI_ERR_CLOSED when the socket closes', async () => {
  await using gw = await FakeGateway.start();
  await using client = clientFor(gw, { reconnect: false });
  await client.connect();
  const requests = [client.request(testProtocol.routes.echo, { n: 1 }), client.request(testProtocol.routes.fire, { x: 1 })];
  await waitFor(() => gw.conns[0]!.requests.length === 2, { timeoutMs: 2000, message: 'both requests at the gateway' });
  gw.conns[0]!.ws.close(CloseCode.SERVER_SHUTDOWN, 'draining');
  for (const r of requests) {
    await assert.rejects(r, (err: unknown) => isClosed(CloseCode.SERVER_SHUTDOWN)(err) && (err as ConnectionClosedError).closeReason === 'draining');
  }
  assert.equal(client.pendingRequests, 0);
  assert.equal(client.state, 'idle', 'reconnect disabled');
});

test('connect() rejects with the close code when the gateway refuses the socket right after the upgrade', async () => {
  await using gw = await FakeGateway.start({ onConnection: (conn) => conn.ws.close(CloseCode.AUTH_INVALID, 'GW_ERR_SESSION_EXPIRED') });
  await using client = clientFor(gw);
  const events = record(client);
  await assert.rejects(client.connect(), (err: unknown) => isClosed(CloseCode.AUTH_INVALID)(err) && (err as ConnectionClosedError).closeReason === 'GW_ERR_SESSION_EXPIRED');
  assert.equal(client.state, 'idle');
  assert.deepEqual(events, [{ type: 'close', arg: { code: CloseCode.AUTH_INVALID, reason: 'GW_ERR_SESSION_EXPIRED', willReconnect: false } }]);
  // A duration, not a condition: no second connection within 30 ms.
  await setTimeout(30);
  assert.equal(gw.conns.length, 1, 'a failed first connect is not retried');
});

test('connect() rejects with 1006 when nothing listens, and the cause says why', async () => {
  const gw = await FakeGateway.start();
  const url = gw.url;
  await gw.close();
  await using client = new GameClient({ url, token: 't', protocol: testProtocol, WebSocket });
  await assert.rejects(client.connect(), (err: unknown) => isClosed(1006)(err) && /ECONNREFUSED/.test(String((err as Error).cause)));
});

test('acceptWaitMs: a server that never answers PING is counted as open after the wait; 0 opens at once', async () => {
  await using gw = await FakeGateway.start({ answerPings: false });
  await using slow = clientFor(gw, { acceptWaitMs: 60 });
  const started = performance.now();
  await slow.connect();
  assert.ok(performance.now() - started >= 50);
  await using fast = clientFor(gw, { acceptWaitMs: 0 });
  await fast.connect();
  assert.equal(fast.state, 'open');
  assert.equal(gw.conns[1]!.pings.length, 0, 'no handshake PING with acceptWaitMs 0');
});

test('options are validated with OPT_ERR_INVALID naming the option, and never mutated', () => {
  const base: GameClientOptions<typeof testProtocol> = { url: 'ws://127.0.0.1:1/ws', token: 't', protocol: testProtocol, WebSocket };
  const bad: Array<[string, Partial<GameClientOptions<typeof testProtocol>>]> = [
    ['url', { url: '' }],
    ['url', { url: 'not a url' }],
    ['url', { url: 'ftp://host/ws' }],
    ['token', { token: '' }],
    ['protocol', { protocol: {} as never }],
    ['requestTimeoutMs', { requestTimeoutMs: 0 }],
    ['requestTimeoutMs', { requestTimeoutMs: 2 ** 31 }],
    ['pingIntervalMs', { pingIntervalMs: -1 }],
    ['acceptWaitMs', { acceptWaitMs: Number.NaN }],
    ['closeTimeoutMs', { closeTimeoutMs: Infinity }],
    ['reconnect', { reconnect: 5 as never }],
    ['reconnect.minDelayMs', { reconnect: { minDelayMs: -5 } }],
    ['reconnect.maxDelayMs', { reconnect: { minDelayMs: 100, maxDelayMs: 50 } }],
    ['reconnect.maxAttempts', { reconnect: { maxAttempts: 1.5 } }],
    ['reconnect.enabled', { reconnect: { enabled: 'yes' as never } }],
    ['WebSocket', { WebSocket: 'ws' as never }],
  ];
  for (const [name, override] of bad) {
    assert.throws(
      () => new GameClient({ ...base, ...override }),
      (err: { code?: string; message?: string }) => err.code === ErrorCodes.OPT_ERR_INVALID && err.message?.includes(`"${name}"`) === true,
      name,
    );
  }
  const frozen = Object.freeze({ ...base, reconnect: Object.freeze({ maxAttempts: 3 }) });
  const client = new GameClient(frozen);
  assert.equal(client.state, 'idle');
  assert.equal(client.protocol, testProtocol);
  assert.ok(new GameClient({ ...base, requestTimeoutMs: Infinity, reconnect: { maxAttempts: Infinity } }));
  if ((globalThis as { WebSocket?: unknown }).WebSocket === undefined) {
    assert.throws(() => new GameClient({ url: base.url, token: 't', protocol: testProtocol }), {
      code: ErrorCodes.OPT_ERR_INVALID,
      message: /"WebSocket"/,
    });
  }
});

test('request() before connect() rejects with CLI_ERR_CLOSED without a close code', async () => {
  await using gw = await FakeGateway.start();
  await using client = clientFor(gw);
  await assert.rejects(client.request(testProtocol.routes.echo, { n: 1 }), isClosed(null));
  // @ts-expect-error the payload type comes from the route
  await assert.rejects(client.request(testProtocol.routes.echo, { x: 1 }), isClosed(null));
  await client.close();
  assert.equal(client.state, 'closed');
});

test('an encode failure rejects the request and sends nothing', async () => {
  await using gw = await FakeGateway.start();
  await using client = clientFor(gw);
  await client.connect();
  const circular: { n: number; self?: unknown } = { n: 1 };
  circular.self = circular;
  await assert.rejects(client.request(testProtocol.routes.echo, circular), TypeError);
  // A request sent after it: once that is at the gateway, anything sent before would be too.
  const later = client.request(testProtocol.routes.echo, { n: 2 });
  const first = await waitFor(() => gw.conns[0]!.requests[0], { timeoutMs: 2000, message: 'the later request at the gateway' });
  assert.equal(new TextDecoder().decode(first.payload), '{"n":2}', 'the first request to arrive is the later one');
  gw.conns[0]!.respond(first, { n: 2 });
  await later;
  assert.equal(gw.conns[0]!.requests.length, 1);
  assert.equal(client.pendingRequests, 0);
});

after(async () => {
  // Every client and fake gateway above was closed: no sockets or timers may be left.
  assert.deepEqual(await leakedHandles(), []);
});
