/**
 * A gateway binds its port exclusively: uWS's default (SO_REUSEPORT) let a second gateway
 * process start on a taken port, and the kernel split the connections between the two (the
 * process test is examples/demo/test/port-in-use.test.ts). In one process uWS refused already,
 * but as GW_ERR_INTERNAL.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, test } from 'node:test';
import { MemoryCoordinator } from '@gos/coordinator';
import { ErrorCodes, coreProtocol } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { Gateway, MemorySessionStore } from '../src/index.js';

const coordinator = new MemoryCoordinator();
const store = new SqliteStore({ file: ':memory:' });
await store.start();
const sessions = new MemorySessionStore();
await sessions.start();
after(async () => {
  await sessions.close();
  await store.close();
  await coordinator.close();
});

const gateway = (id: string, port: number, host = '127.0.0.1'): Gateway =>
  new Gateway({ gatewayId: id, clusterSecret: 'port-in-use-test-secret', coordinator, store, sessions, protocol: coreProtocol, host, port, scryptCost: 1024 });

test('a second gateway on the first one’s port fails to start with GW_ERR_PORT_IN_USE; the first keeps serving', async () => {
  await using first = gateway('gw-1', 0);
  await first.start();
  await using second = gateway('gw-2', first.port);
  await assert.rejects(second.start(), { code: ErrorCodes.GW_ERR_PORT_IN_USE, message: `cannot listen on 127.0.0.1:${first.port}: the port is in use` });
  assert.equal((await fetch(`${first.httpUrl}/healthz`)).status, 200);
});

test('a port held by another kind of server is reported as in use too', async () => {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as { port: number };
  try {
    await using g = gateway('gw-3', port);
    await assert.rejects(g.start(), { code: ErrorCodes.GW_ERR_PORT_IN_USE });
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
});

test('an address it cannot bind is not called "in use": GW_ERR_INTERNAL with the errno', async () => {
  // TEST-NET-1 (RFC 5737): no interface of this machine has it.
  await using g = gateway('gw-4', 0, '192.0.2.1');
  await assert.rejects(g.start(), { code: ErrorCodes.GW_ERR_INTERNAL, message: /^cannot listen on 192\.0\.2\.1:0: EADDRNOTAVAIL$/ });
});
