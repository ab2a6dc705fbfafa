import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { ErrorCodes, type CodedError } from '@gos/schema';
import { waitFor } from '@gos/testing';
import { LinkClient, LinkServer, type LinkPeer } from '../src/index.js';
import { SECRET, captureLogger, openTcpHandles } from './helpers.js';

after(async () => assert.deepEqual(await openTcpHandles(), [], 'no TCP handle left open'));

test('reconnect: the server restarts on the same port; down, then up again', async () => {
  const first = new LinkServer({ nodeId: 'engine-1', secret: SECRET });
  await first.start();
  const port = first.port;
  const clientLog = captureLogger();
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port, reconnectMinMs: 20, reconnectMaxMs: 200, logger: clientLog });
  const events: string[] = [];
  client.on('up', (id) => events.push(`up:${id}`));
  client.on('down', (reason) => events.push(`down:${reason?.code ?? 'null'}`));
  const up = once(client, 'up');
  await client.start();
  await up;

  const down = once(client, 'down');
  await first.close();
  await down;
  assert.equal(client.isUp, false);
  assert.throws(() => client.send(16, 1, new Uint8Array(1)), { code: ErrorCodes.LNK_ERR_NOT_CONNECTED });

  // Let a few attempts fail while nothing listens.
  await waitFor(() => client.lastError?.code === ErrorCodes.LNK_ERR_NOT_CONNECTED, { timeoutMs: 3000, message: 'a refused attempt' });
  await using second = new LinkServer({ nodeId: 'engine-1b', secret: SECRET, port });
  const peers: LinkPeer[] = [];
  second.on('peer', (peer) => peers.push(peer));
  const upAgain = once(client, 'up');
  await second.start();
  await upAgain;
  assert.deepEqual(events, ['up:engine-1', `down:${ErrorCodes.LNK_ERR_CLOSED}`, 'up:engine-1b']);
  await waitFor(() => peers.length === 1, { timeoutMs: 3000, message: 'peer' });
  const got = once(peers[0]!, 'message');
  client.send(16, 9, Buffer.from('after restart'));
  const [, channel, body] = await got;
  assert.equal(channel, 9);
  assert.equal(Buffer.from(body as Uint8Array).toString(), 'after restart');
  // One warning for the outage, not one per refused attempt.
  assert.equal(clientLog.entries.filter((e) => e.msg === 'link connection failed; retrying' && e.level === 'warn').length <= 1, true);
});

test('reconnect: back-off grows up to reconnectMaxMs while nothing listens', async () => {
  const probe = new LinkServer({ nodeId: 'probe', secret: SECRET });
  await probe.start();
  const port = probe.port;
  await probe.close();
  const log = captureLogger();
  await using client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port, reconnectMinMs: 10, reconnectMaxMs: 80, logger: log });
  const started = Date.now();
  await client.start();
  await waitFor(() => log.entries.filter((e) => e.msg === 'link connection failed; retrying').length >= 8, { timeoutMs: 3000, message: '8 refused attempts' });
  const elapsed = Date.now() - started;
  // The 7 delays between them: without back-off 7 × 10 = 70 ms; with it (10–20, 20–40, then
  // 40–80 ms) at least 230 ms; growing past reconnectMaxMs (…, 160, 320, 640) at least 1270 ms.
  assert.ok(elapsed >= 225 && elapsed < 1270, `8 attempts in ${elapsed} ms`);
});

test('close: idempotent, flushes pending writes, then refuses to send or start', async () => {
  const server = new LinkServer({ nodeId: 'engine-1', secret: SECRET });
  const received: number[] = [];
  const peerClosed: Array<CodedError | null> = [];
  server.on('peer', (peer) => {
    peer.on('message', (_t, channel) => received.push(channel));
    peer.on('close', (reason) => peerClosed.push(reason));
  });
  await server.start();
  const client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port });
  const downs: Array<CodedError | null> = [];
  client.on('down', (reason) => downs.push(reason));
  const up = once(client, 'up');
  await client.start();
  await up;

  for (let i = 0; i < 100; i++) client.send(16, i, new Uint8Array(10));
  const a = client.close(); // same turn: the batch must still go out
  const b = client.close();
  assert.equal(a, b);
  await a;
  await client.close();
  assert.deepEqual(downs, [null], 'one down, deliberate');
  assert.throws(() => client.send(16, 0, new Uint8Array(0)), { code: ErrorCodes.LNK_ERR_CLOSED });
  await assert.rejects(client.start(), { code: ErrorCodes.LNK_ERR_CLOSED });
  await waitFor(() => received.length === 100, { timeoutMs: 3000, message: 'flushed before closing' });
  await waitFor(() => peerClosed.length === 1, { timeoutMs: 3000, message: 'peer close' });
  assert.equal(peerClosed[0]?.code, ErrorCodes.LNK_ERR_CLOSED);

  const c = server.close();
  assert.equal(server.close(), c);
  await c;
  await assert.rejects(server.start(), { code: ErrorCodes.LNK_ERR_CLOSED });
  assert.throws(() => server.port, { code: ErrorCodes.LNK_ERR_NOT_CONNECTED });
});

test('close: the server closing ends its peers; a peer can be closed on its own', async () => {
  await using server = new LinkServer({ nodeId: 'engine-1', secret: SECRET });
  const peers: LinkPeer[] = [];
  server.on('peer', (peer) => peers.push(peer));
  await server.start();
  await using c1 = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: server.port, reconnectMinMs: 5000 });
  await using c2 = new LinkClient({ nodeId: 'gw-2', secret: SECRET, port: server.port });
  const ups = Promise.all([once(c1, 'up'), once(c2, 'up')]);
  await c1.start();
  await c2.start();
  await ups;
  await waitFor(() => peers.length === 2, { timeoutMs: 3000, message: 'two peers' });
  const gw1 = peers.find((p) => p.nodeId === 'gw-1')!;
  const down1 = once(c1, 'down');
  const closed: Array<CodedError | null> = [];
  gw1.on('close', (reason) => closed.push(reason));
  await Promise.all([gw1.close(), gw1.close()]);
  assert.deepEqual(closed, [null]);
  assert.equal(gw1.isOpen, false);
  assert.throws(() => gw1.send(32, 0, new Uint8Array(0)), { code: ErrorCodes.LNK_ERR_CLOSED });
  await down1;
  assert.deepEqual(server.peers.map((p) => p.nodeId), ['gw-2']);
  const down2 = once(c2, 'down');
  await server.close();
  await down2;
});

test('close before start, and start twice', async () => {
  const server = new LinkServer({ nodeId: 'engine-1', secret: SECRET });
  await server.close();
  const client = new LinkClient({ nodeId: 'gw-1', secret: SECRET, port: 1 });
  await client.close();
  const s2 = new LinkServer({ nodeId: 'engine-1', secret: SECRET });
  await Promise.all([s2.start(), s2.start()]);
  await s2.close();
});

test('start: a port in use rejects with LNK_ERR_PORT_IN_USE naming the address, and start may be retried', async () => {
  await using first = new LinkServer({ nodeId: 'engine-1', secret: SECRET });
  await first.start();
  const second = new LinkServer({ nodeId: 'engine-2', secret: SECRET, port: first.port });
  const inUse = { code: ErrorCodes.LNK_ERR_PORT_IN_USE, message: `cannot listen on 127.0.0.1:${first.port}: the port is in use` };
  await assert.rejects(second.start(), inUse);
  await assert.rejects(second.start(), inUse);
  await second.close();
});

test('no handle leaks: a process that links and closes exits by itself', () => {
  // Links, exchanges a message, closes both ends and does NOT call process.exit.
  const entry = new URL('../src/index.js', import.meta.url).href;
  const script = `
    import { once } from 'node:events';
    import { LinkClient, LinkServer } from ${JSON.stringify(entry)};
    const secret = ${JSON.stringify(SECRET)};
    const server = new LinkServer({ nodeId: 'engine-1', secret });
    server.on('peer', (peer) => peer.on('message', (type, channel, body) => peer.send(type, channel, body)));
    await server.start();
    const client = new LinkClient({ nodeId: 'gw-1', secret, port: server.port });
    const up = once(client, 'up');
    await client.start();
    const [peerId] = await up;
    const echo = once(client, 'message');
    client.send(16, 1, new Uint8Array([1, 2, 3]));
    await echo;
    await client.close();
    await server.close();
    process.stdout.write('linked ' + peerId + '\\n');
  `;
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(result.status, 0, `child exited with ${String(result.status)}: ${result.stderr}`);
  assert.match(result.stdout, /linked engine-1/);
  assert.ok(Date.now() - started < 5000, 'exited promptly');
});
