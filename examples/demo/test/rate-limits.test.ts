/**
 * Flood limits hold per account and per address across reconnects: a socket closed for
 * flooding (4006) cannot come back at once with a fresh burst, a new socket of the same account
 * shares its bucket, and an address that floods with several accounts is cooled down too.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { guest, type GuestResult } from '@gos/client';
import { CloseCode, FrameKind, encodeFrame } from '@gos/schema';
import { waitFor } from '@gos/testing';
import type { EmbeddedCluster } from '../src/index.js';
import { protocol } from '../src/generated/protocol.js';
import { startCluster, tempDir } from './helpers.js';

const LIMITS = { messagesPerSecond: 20, messageBurst: 40, rateLimitCooldownMs: 1500, addressStrikes: 3 };
let dir: Awaited<ReturnType<typeof tempDir>>;
let cluster: EmbeddedCluster;

before(async () => {
  dir = await tempDir();
  cluster = await startCluster(join(dir.path, 'limits.db'), { limits: LIMITS });
});
after(async () => {
  await cluster.close();
  await dir.remove();
});

interface Sock {
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<boolean>;
}

function open(auth: GuestResult): Sock {
  const ws = new WebSocket(`${auth.gateway}?token=${auth.token}&v=${protocol.version}`);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('error', () => resolve(false));
  });
  return { ws, closed, opened };
}

const ping = encodeFrame(FrameKind.PING, 0, 1, null);

async function flood(auth: GuestResult): Promise<void> {
  const s = open(auth);
  assert.ok(await s.opened);
  for (let i = 0; i < LIMITS.messageBurst + 20; i++) s.ws.send(ping);
  assert.equal((await s.closed).code, CloseCode.RATE_LIMITED);
}

/** Open a socket and send one PING: whether it got a PONG before any close. */
async function usable(auth: GuestResult): Promise<{ ok: boolean; close?: { code: number; reason: string } }> {
  const s = open(auth);
  await s.opened;
  const pong = new Promise<true>((resolve) => s.ws.once('message', () => resolve(true)));
  if (s.ws.readyState === WebSocket.OPEN) s.ws.send(ping);
  const first = await Promise.race([pong, s.closed]);
  if (first === true) {
    s.ws.close();
    await s.closed;
    return { ok: true };
  }
  return { ok: false, close: first };
}

test('after a 4006 the same token is refused for the cool-down, then accepted again', async () => {
  const auth = await guest(cluster.url);
  await flood(auth);
  const again = await usable(auth);
  assert.equal(again.ok, false, 'a fresh socket right after the flood is refused');
  assert.equal(again.close?.code, CloseCode.RATE_LIMITED);
  assert.match(again.close?.reason ?? '', /GW_ERR_RATE_LIMITED: cooling down after a flood; retry in \d+ ms/);
  await waitFor(async () => (await usable(auth)).ok, { timeoutMs: LIMITS.rateLimitCooldownMs * 4, message: 'the cool-down to end', intervalMs: 20 });
});

test("an account's sockets share one bucket: reconnecting does not buy a fresh burst", async () => {
  const auth = await guest(cluster.url);
  const first = open(auth);
  assert.ok(await first.opened);
  // Most of the burst on the first socket, then closed cleanly.
  for (let i = 0; i < LIMITS.messageBurst - 5; i++) first.ws.send(ping);
  first.ws.close();
  assert.equal((await first.closed).code, 1005);
  // The rest of it, and more, on a second socket: over the account's burst.
  const second = open(auth);
  assert.ok(await second.opened);
  for (let i = 0; i < 25; i++) second.ws.send(ping);
  assert.equal((await second.closed).code, CloseCode.RATE_LIMITED);
});

test('an address that floods with several accounts is cooled down for every account', async () => {
  for (let i = 0; i < LIMITS.addressStrikes; i++) await flood(await guest(cluster.url));
  const fresh = await guest(cluster.url);
  const refused = await usable(fresh);
  assert.equal(refused.ok, false, 'a new account from the same address is refused meanwhile');
  assert.equal(refused.close?.code, CloseCode.RATE_LIMITED);
  await waitFor(async () => (await usable(fresh)).ok, { timeoutMs: LIMITS.rateLimitCooldownMs * 4, message: 'the address cool-down to end', intervalMs: 20 });
});
