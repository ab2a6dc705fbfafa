/**
 * The `uws-worker` target: a calibration of the fat-process shape with nothing of this framework
 * above its ring (src/targets/uws-worker.ts). uWebSockets.js on the main thread, rooms of 100 in
 * connection order as the bare `uws` target; each message goes as it came into the engine's
 * SharedArrayBuffer ring to the rooms thread without waking it; the rooms thread ticks at 10 Hz
 * and hands back each room's TICK frame, which the main thread publishes on the room's uWS
 * topic. No auth, no persistence, no safety limits. mmo-move only.
 *
 *   PORT=3902 node bench/dist/bin/servers/uws-worker.js   → prints {"ready":true,…} when listening
 */
import { Worker } from 'node:worker_threads';
import type { us_listen_socket } from 'uWebSockets.js';
// eslint-disable-next-line no-restricted-imports -- a declared, dependency-free entry of @gos/engine (its rings), not its internals
import { RingReader, RingWriter, createRing } from '@gos/engine/ring';
import { parseCommandLine } from '@gos/cluster';
import { loadUws } from '../../src/targets/uws.js';
import { encodeWelcome } from '../../src/targets/uws-wire.js';
import { FromRooms, RING_BYTES, ROOM_SIZE, ToRooms, roomTopic, type RoomsThreadData } from '../../src/targets/uws-worker.js';

parseCommandLine(
  { name: 'uws-worker', usage: `usage: PORT=3902 node bench/dist/bin/servers/uws-worker.js
The bench's calibration of the fat-process shape (npm run bench starts it as --targets uws-worker): listens
on 127.0.0.1:PORT, prints {"ready":true,…} when listening, stops on SIGTERM/SIGINT. mmo-move only. No options.` },
  {},
);
const port = Number(process.env['PORT']);
if (!Number.isInteger(port) || port <= 0) {
  console.error('uws-worker: set PORT');
  process.exit(2);
}
const scenario = process.env['SCENARIO'] ?? 'mmo-move';
if (scenario !== 'mmo-move') {
  console.error(`uws-worker: plays mmo-move only, not ${scenario}`);
  process.exit(2);
}

const data: RoomsThreadData = { toRooms: createRing(RING_BYTES), fromRooms: createRing(RING_BYTES) };
const rooms = new Worker(new URL('../../src/targets/uws-worker-rooms.js', import.meta.url), { workerData: data });
rooms.on('error', (err) => {
  console.error('uws-worker: the rooms thread failed', err);
  process.exit(1);
});
// Moves are published into the ring as they are written and wake nobody: the rooms thread drains them at its tick.
const inputs = new RingWriter(data.toRooms, { autoFlush: true, nonUrgent: 'at-once' });
const frames = new RingReader(data.fromRooms);

interface Seat {
  readonly id: number;
  readonly room: number;
}

/** Each room's uWS topic, made once. */
const topics: string[] = [];
const topicOf = (room: number): string => (topics[room] ??= roomTopic(room));
let joined = 0;
let nextId = 1;
/** Messages the ring could not take (the rooms thread fell behind): dropped. */
let dropped = 0;

const { uWS } = loadUws();
const app = uWS.App();

function toRoomsThread(type: number, seat: Seat, payload: Uint8Array | null): void {
  if (!inputs.tryWrite(type, seat.id, seat.room, payload, false) && dropped++ % 1000 === 0) {
    console.error(`uws-worker: ${dropped} messages dropped (ring full)`);
  }
}

app.ws<{ seat?: Seat }>('/ws', {
  maxPayloadLength: 1024,
  idleTimeout: 60,
  open: (ws) => {
    const seat: Seat = { id: nextId++, room: Math.floor(joined++ / ROOM_SIZE) };
    ws.getUserData().seat = seat;
    ws.subscribe(topicOf(seat.room));
    toRoomsThread(ToRooms.JOIN, seat, null);
    ws.send(encodeWelcome(seat.id), true);
  },
  message: (ws, message) => {
    const seat = ws.getUserData().seat;
    if (seat !== undefined) toRoomsThread(ToRooms.MOVE, seat, new Uint8Array(message));
  },
  close: (ws) => {
    const seat = ws.getUserData().seat;
    if (seat !== undefined) toRoomsThread(ToRooms.LEAVE, seat, null);
  },
});

const stopFrames = new AbortController();
void frames.startReadLoop(
  (type, room, _value, frame) => {
    if (type === FromRooms.TICK) app.publish(topicOf(room), frame, true);
  },
  { signal: stopFrames.signal },
);

let listenSocket: us_listen_socket | false = false;
app.listen('127.0.0.1', port, (socket) => {
  listenSocket = socket;
  if (socket === false) {
    console.error(`uws-worker: cannot listen on 127.0.0.1:${port}`);
    process.exit(1);
  }
  console.log(JSON.stringify({ ready: true, target: 'uws-worker', port }));
});

const stop = (): void => {
  stopFrames.abort();
  if (listenSocket !== false) uWS.us_listen_socket_close(listenSocket);
  void rooms.terminate().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
