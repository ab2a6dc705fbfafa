/**
 * The `uws` target: a bare single-process uWebSockets.js server doing the mmo-move rule with a
 * hand-made binary encoding (src/targets/uws-wire.ts): rooms of 100 in connection order, a move
 * sets position and ack, a 10 Hz tick publishes each room's changed players once through a uWS
 * topic. No auth, no persistence, no safety limits: the ceiling for this runtime.
 *
 * mmo-aoi: everyone on one map; each tick's moved players go to everyone (the whole-map
 * broadcast, the naive baseline), or with AOI=filter (target `uws-filter`) to each client only
 * the moved players within the view radius of its own player, encoded once per client.
 *
 *   PORT=3901 node bench/dist/bin/servers/uws.js      → prints {"ready":true,…} when listening
 */
import type { WebSocket, us_listen_socket } from 'uWebSockets.js';
import { nowMs } from '../../src/loadgen/driver.js';
import { loadUws } from '../../src/targets/uws.js';
import { chatFromSay, decodeMove, encodeTick, encodeWelcome, type TickEntry } from '../../src/targets/uws-wire.js';
import { parseCommandLine } from '@gos/cluster';
import { NearbyGrid } from '../../src/targets/nearby.js';

parseCommandLine(
  { name: 'uws', usage: `usage: PORT=3901 [SCENARIO=mmo-move|idle-ccu|chat-fanout|reconnect-storm|mmo-aoi] node bench/dist/bin/servers/uws.js
The bench's bare uWebSockets.js target (npm run bench starts it): listens on 127.0.0.1:PORT, prints
{"ready":true,…} when listening, stops on SIGTERM/SIGINT. No options.` },
  {},
);
const port = Number(process.env['PORT']);
if (!Number.isInteger(port) || port <= 0) {
  console.error('uws: set PORT');
  process.exit(2);
}
/** idle-ccu, reconnect-storm: a tick with nothing changed sends nothing (mmo-move always sends the server time). */
const idle = process.env['SCENARIO'] === 'idle-ccu' || process.env['SCENARIO'] === 'reconnect-storm';
/** chat-fanout: everyone in one room, SAY lines published to all. */
const chat = process.env['SCENARIO'] === 'chat-fanout';
/** mmo-aoi: everyone on one map, each tick's changed players broadcast to all (the naive whole-map baseline). */
const wholeMap = process.env['SCENARIO'] === 'mmo-aoi';
/** mmo-aoi with AOI=filter: to each client, the moved players within AOI_VIEW of its own. */
const filter = wholeMap && process.env['AOI'] === 'filter';
const ROOM_SIZE = chat || wholeMap ? Number.MAX_SAFE_INTEGER : 100;
const TICK_MS = 100;

interface Room {
  readonly topic: string;
  readonly changed: Set<TickEntry>;
  members: number;
}
interface Player {
  readonly room: Room;
  readonly entry: TickEntry;
}

const rooms: Room[] = [];
let joined = 0;
let nextId = 1;

const { uWS } = loadUws();
const app = uWS.App();
/** uws-filter: every connected socket with a player. */
const sockets = new Set<WebSocket<{ player?: Player }>>();
app.ws<{ player?: Player }>('/ws', {
  maxPayloadLength: 1024,
  idleTimeout: 60,
  open: (ws) => {
    const index = Math.floor(joined++ / ROOM_SIZE);
    let room = rooms[index];
    if (room === undefined) {
      room = { topic: `r${index}`, changed: new Set(), members: 0 };
      rooms[index] = room;
    }
    room.members++;
    const entry: TickEntry = { id: nextId++, x: 0, y: 0, ack: 0 };
    ws.getUserData().player = { room, entry };
    if (filter) sockets.add(ws);
    else ws.subscribe(room.topic);
    ws.send(encodeWelcome(entry.id), true);
  },
  message: (ws, message) => {
    const player = ws.getUserData().player;
    if (chat && player !== undefined) {
      const line = chatFromSay(message, player.entry.id);
      if (line !== null) app.publish(player.room.topic, line, true);
      return;
    }
    const move = decodeMove(message);
    if (player === undefined || move === null || !Number.isFinite(move.x) || !Number.isFinite(move.y)) return;
    player.entry.x = move.x;
    player.entry.y = move.y;
    player.entry.ack = move.seq;
    player.room.changed.add(player.entry);
  },
  close: (ws) => {
    sockets.delete(ws);
    const player = ws.getUserData().player;
    if (player === undefined) return;
    player.room.members--;
    player.room.changed.delete(player.entry);
  },
});

/** uws-filter: each client gets the moved players within AOI_VIEW of its own. */
function sendNearby(changed: ReadonlySet<TickEntry>): void {
  const grid = new NearbyGrid(changed);
  const now = nowMs();
  for (const ws of sockets) {
    const me = ws.getUserData().player?.entry;
    if (me === undefined) continue;
    const near: TickEntry[] = [];
    grid.near(me.x, me.y, (e) => near.push(e));
    if (near.length > 0) ws.send(encodeTick(now, near), true);
  }
}

/** Tick durations (ms) since the last GET /bench-ticks, which returns and clears them. */
let tickMs: number[] = [];
const tick = setInterval(() => {
  const t0 = performance.now();
  for (const room of rooms) {
    if (room.members === 0 || chat || (idle && room.changed.size === 0)) continue;
    if (filter) {
      sendNearby(room.changed);
      room.changed.clear();
      continue;
    }
    const frame = encodeTick(nowMs(), [...room.changed]);
    room.changed.clear();
    app.publish(room.topic, frame, true);
  }
  if (tickMs.length < 100_000) tickMs.push(performance.now() - t0);
}, TICK_MS);
app.get('/bench-ticks', (res) => {
  const body = JSON.stringify({ durationsMs: tickMs });
  tickMs = [];
  res.writeHeader('content-type', 'application/json').end(body);
});

let listenSocket: us_listen_socket | false = false;
app.listen('127.0.0.1', port, (socket) => {
  listenSocket = socket;
  if (socket === false) {
    console.error(`uws: cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(JSON.stringify({ ready: true, target: 'uws', port }));
});

const stop = (): void => {
  clearInterval(tick);
  if (listenSocket !== false) uWS.us_listen_socket_close(listenSocket);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
