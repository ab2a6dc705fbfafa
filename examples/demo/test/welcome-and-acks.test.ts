/**
 * What a connection starts with (the Welcome push naming the player, then everyone, before any
 * answer), and the per-player acknowledgement snapshots carry (PlayerState.ack).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { GameClient, login, register } from '@gos/client';
import { FrameKind, encodeFrame, framePayload, readFrameHeader } from '@gos/schema';
import { waitFor } from '@gos/testing';
import type { EmbeddedCluster } from '../src/index.js';
import { PUSH, WelcomeCodec, WhoAmIReqCodec, WhoAmIResCodec, WorldSnapshotCodec, protocol, type PlayerState } from '../src/generated/protocol.js';
import { joinAs, startCluster, tempDir, uniqueName } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let cluster: EmbeddedCluster;

before(async () => {
  dir = await tempDir();
  cluster = await startCluster(join(dir.path, 'welcome.db'));
});
after(async () => {
  await cluster.close();
  await dir.remove();
});

test('a connection starts with Welcome (the player id), then the full snapshot, then answers', async () => {
  const name = uniqueName('first');
  await register(cluster.url, name, 'correct-horse-1');
  const auth = await login(cluster.url, name, 'correct-horse-1');
  const ws = new WebSocket(`${auth.gateway}?token=${auth.token}&v=${protocol.version}`);
  const frames: Uint8Array[] = [];
  ws.on('message', (d: Buffer) => frames.push(new Uint8Array(d)));
  await new Promise((r) => ws.once('open', r));
  // Sent at once: the gateway holds them until the player is in its scene.
  ws.send(encodeFrame(FrameKind.PING, 0, 1, null));
  ws.send(encodeFrame(FrameKind.REQUEST, protocol.routes.whoami.id, 2, WhoAmIReqCodec.encode({})));
  const answered = (): boolean => frames.some((f) => readFrameHeader(f)?.kind === FrameKind.RESPONSE);
  await waitFor(answered, { timeoutMs: 5000, message: 'the whoami answer' });
  // The PONG comes from the gateway itself, whenever the PING gets there: leave it out.
  const rest = frames.filter((f) => readFrameHeader(f)?.kind !== FrameKind.PONG);
  const headers = rest.map((f) => readFrameHeader(f)!);
  assert.deepEqual(
    headers.slice(0, 2).map((h) => [h.kind, h.opcode]),
    [
      [FrameKind.PUSH, PUSH.Welcome],
      [FrameKind.PUSH, PUSH.WorldSnapshot],
    ],
  );
  const welcome = WelcomeCodec.decode(framePayload(rest[0]!));
  assert.equal(welcome.playerId, auth.accountId);
  assert.equal(welcome.name, name);
  const snapshot = WorldSnapshotCodec.decode(framePayload(rest[1]!));
  const mine = snapshot.players.find((p) => p.id === welcome.playerId);
  assert.deepEqual(mine && { x: mine.x, y: mine.y, ack: mine.ack }, { x: welcome.x, y: welcome.y, ack: 0 });
  const who = WhoAmIResCodec.decode(framePayload(rest[headers.findIndex((h) => h.kind === FrameKind.RESPONSE)]!));
  assert.deepEqual(who, { playerId: welcome.playerId, name, sceneId: welcome.sceneId, x: welcome.x, y: welcome.y });
  ws.close();
});

test("snapshots carry each player's last processed move seq; a new connection starts from 0", async () => {
  const walker = await joinAs(cluster.url, uniqueName('walker'));
  const watcher = await joinAs(cluster.url, uniqueName('watcher'));
  const ownView: PlayerState[] = [];
  const watcherView: PlayerState[] = [];
  walker.client.onPush('WorldSnapshot', (s) => ownView.push(...s.players.filter((p) => p.id === walker.accountId)));
  watcher.client.onPush('WorldSnapshot', (s) => watcherView.push(...s.players.filter((p) => p.id === walker.accountId)));
  const me = await walker.api.whoami({});
  // Inputs without replies: only the snapshots acknowledge them.
  for (let seq = 1; seq <= 5; seq++) assert.equal(walker.client.send(protocol.routes.move, { seq, x: me.x + seq, y: me.y }), true);
  await waitFor(() => ownView.at(-1)?.ack === 5 && watcherView.at(-1)?.ack === 5, { timeoutMs: 5000, message: 'snapshots acknowledging seq 5' });
  assert.ok(ownView.at(-1)!.x > me.x, 'moved right (by as much as the speed limit allows)');
  // The same player on a new connection: its snapshot entry starts again at 0.
  const again = await login(cluster.url, walker.username, 'correct-horse-1');
  const fresh = new GameClient({ url: again.gateway, token: again.token, protocol, WebSocket, reconnect: false });
  const welcomed: string[] = [];
  const freshView: PlayerState[] = [];
  fresh.onPush('Welcome', (w) => welcomed.push(w.playerId));
  fresh.onPush('WorldSnapshot', (s) => freshView.push(...s.players.filter((p) => p.id === walker.accountId)));
  await fresh.connect();
  await waitFor(() => freshView.length > 0, { timeoutMs: 5000, message: 'the full snapshot of the new connection' });
  assert.deepEqual(welcomed, [walker.accountId]);
  assert.equal(freshView[0]?.ack, 0);
  await fresh.close();
  await walker.client.close();
  await watcher.client.close();
});
