/**
 * Moving to another gateway (core push Reconnect, sent by a gateway that drains): the requests
 * under way are answered where they were sent, what the game sends meanwhile goes to the new
 * gateway in order, and the game sees no error and no close; a new gateway that cannot be
 * reached leaves the client on the old one.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { CORE_PUSH, CloseCode, FrameKind, ReconnectCodec } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { clientFor, FakeGateway, record, testProtocol, type FakeConn } from './helpers.js';

function tellToMove(conn: FakeConn, url: string): void {
  conn.send(FrameKind.PUSH, CORE_PUSH.Reconnect, 0, ReconnectCodec.encode({ url, gatewayId: 'gateway-b', reason: 'gateway draining' }));
}

test('a Reconnect push moves the client: requests under way answered on the old gateway, later ones held and sent to the new one in order, no error', async () => {
  const log: string[] = [];
  await using b = await FakeGateway.start({
    onConnection: () => {
      log.push('b: connected');
      // A push the old scene sent before the hand-over still reaches the game; then the engine
      // hands the seat over and the old gateway closes the old socket.
      a.conns[0]?.push(testProtocol.pushes.Tick.id, { t: 7 });
      a.conns[0]?.ws.close(CloseCode.SESSION_REPLACED, 'logged in elsewhere');
    },
    onRequest: (conn, req) => {
      log.push(`b: request ${req.header.opcode}`);
      if (req.header.opcode === testProtocol.routes.echo.id) conn.respond(req, { n: 20 });
    },
  });
  await using a = await FakeGateway.start({ onRequest: (_conn, req) => log.push(`a: request ${req.header.opcode}`) });
  await using client = clientFor(a);
  const events = record(client);
  const ticks: number[] = [];
  client.onPush('Tick', (t) => ticks.push(t.t));
  await client.connect();
  const old = await a.connections(1);
  const first = client.request(testProtocol.routes.echo, { n: 1 });
  await waitFor(() => old.requests.length === 1, { timeoutMs: 2000, message: 'the first request on a' });
  const told = new Promise((resolve) => client.onPush('Reconnect', resolve));
  tellToMove(old, b.url);
  assert.deepEqual(await told, { url: b.url, gatewayId: 'gateway-b', reason: 'gateway draining' });
  // Sent while the first is under way: held.
  const second = client.request(testProtocol.routes.echo, { n: 2 });
  assert.equal(client.send(testProtocol.routes.fire, { x: 3 }), true);
  assert.equal(client.state, 'open');
  // The first one is answered where it was sent; only then does the client leave a.
  old.respond(old.requests[0]!, { n: 10 });
  assert.deepEqual(await first, { n: 10 });
  assert.deepEqual(await second, { n: 20 });
  await waitFor(() => b.conns[0]?.requests.length === 2, { timeoutMs: 2000, message: 'both held frames on b' });
  const onB = b.conns[0]!;
  assert.equal(onB.url.searchParams.get('token'), 'tok-123');
  assert.equal(onB.url.searchParams.get('v'), '7');
  assert.deepEqual(onB.requests.map((r) => r.header.opcode), [testProtocol.routes.echo.id, testProtocol.routes.fire.id], 'in the order the game sent them');
  // a saw the barrier PING (after the answer) before b saw the client; a got nothing more.
  assert.equal(old.requests.length, 1);
  assert.ok(old.pings.some((p) => p.header.requestId >= 0x7000_0000), 'a barrier PING on the old socket');
  assert.deepEqual(log, ['a: request 1', 'b: connected', `b: request ${testProtocol.routes.echo.id}`, `b: request ${testProtocol.routes.fire.id}`]);
  assert.deepEqual(events.map((e) => e.type), ['open', 'moved']);
  assert.deepEqual(events[1]!.arg, { url: b.url });
  // Requests go to b from now on; a lost b reconnects to b first.
  assert.deepEqual(await client.request(testProtocol.routes.echo, { n: 4 }), { n: 20 });
  await waitFor(() => old.closeCode !== undefined, { timeoutMs: 2000, message: 'the old socket closed' });
  assert.equal(client.state, 'open');
  assert.deepEqual(ticks, [7], 'the old socket\'s last push delivered');
});

test('a move whose new gateway cannot be reached stays on the old one and sends what it held there', async () => {
  const dead = await FakeGateway.start();
  const deadUrl = dead.url;
  await dead.close();
  await using a = await FakeGateway.start({ onRequest: (conn, req) => conn.respond(req, { n: 1 }) });
  await using client = clientFor(a);
  const events = record(client);
  await client.connect();
  const old = await a.connections(1);
  const told = new Promise((resolve) => client.onPush('Reconnect', resolve));
  tellToMove(old, deadUrl);
  await told;
  const held = client.request(testProtocol.routes.echo, { n: 1 });
  assert.deepEqual(await held, { n: 1 });
  assert.equal(old.requests.length, 1);
  assert.equal(a.conns.length, 1, 'the same socket');
  assert.deepEqual(events.map((e) => e.type), ['open']);
  assert.equal(client.state, 'open');
});

test('a move whose new gateway never accepts the socket is given up after a bound: the client stays, what it held goes to the old gateway', async () => {
  // A TCP server that takes connections and never answers the WebSocket upgrade.
  const silent = createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const port = (silent.address() as AddressInfo).port;
  try {
    await using a = await FakeGateway.start({ onRequest: (conn, req) => conn.respond(req, { n: 1 }) });
    await using client = clientFor(a);
    const events = record(client);
    await client.connect();
    const old = await a.connections(1);
    const told = new Promise((resolve) => client.onPush('Reconnect', resolve));
    tellToMove(old, `ws://127.0.0.1:${port}/ws`);
    await told;
    const held = client.request(testProtocol.routes.echo, { n: 1 }, { timeoutMs: 15_000 });
    assert.deepEqual(await held, { n: 1 });
    assert.equal(old.requests.length, 1);
    assert.deepEqual(events.map((e) => e.type), ['open']);
    assert.equal(client.state, 'open');
  } finally {
    silent.close();
  }
});
