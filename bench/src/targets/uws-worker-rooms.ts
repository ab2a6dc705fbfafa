/**
 * The rooms thread of the `uws-worker` calibration target (uws-worker.ts): the bare target's
 * mmo-move rule, run on a worker thread. Every TICK_MS it drains the moves the main thread left
 * in the ring, encodes each room's changed players once, writes the frames and flushes once.
 */
import { workerData } from 'node:worker_threads';
// eslint-disable-next-line no-restricted-imports -- a declared, dependency-free entry of @gos/engine (its rings), not its internals
import { RingReader, RingWriter } from '@gos/engine/ring';
import { nowMs } from '../loadgen/driver.js';
import { decodeMoveAt, encodeTick, type TickEntry } from './uws-wire.js';
import { FromRooms, TICK_MS, ToRooms, roomsThreadData } from './uws-worker.js';

interface Room {
  readonly changed: Set<TickEntry>;
  members: number;
}

const { toRooms, fromRooms } = roomsThreadData(workerData);
const inputs = new RingReader(toRooms);
const frames = new RingWriter(fromRooms);
const view = new DataView(toRooms);
const rooms: Room[] = [];
const players = new Map<number, TickEntry>();
/** Frames that did not fit in the ring (the main thread fell behind): dropped, as a full socket buffer would. */
let dropped = 0;

function onRecord(type: number, id: number, roomIndex: number, payload: Uint8Array): void {
  let room = rooms[roomIndex];
  if (room === undefined) {
    room = { changed: new Set(), members: 0 };
    rooms[roomIndex] = room;
  }
  if (type === ToRooms.JOIN) {
    players.set(id, { id, x: 0, y: 0, ack: 0 });
    room.members++;
  } else if (type === ToRooms.MOVE) {
    const entry = players.get(id);
    const move = decodeMoveAt(view, payload.byteOffset, payload.byteLength);
    if (entry === undefined || move === null || !Number.isFinite(move.x) || !Number.isFinite(move.y)) return;
    entry.x = move.x;
    entry.y = move.y;
    entry.ack = move.seq;
    room.changed.add(entry);
  } else if (type === ToRooms.LEAVE) {
    const entry = players.get(id);
    if (entry === undefined) return;
    players.delete(id);
    room.members--;
    room.changed.delete(entry);
  }
}

setInterval(() => {
  inputs.drain(onRecord);
  const now = nowMs();
  for (let i = 0; i < rooms.length; i++) {
    const room = rooms[i];
    if (room === undefined || room.members === 0) continue;
    const frame = encodeTick(now, [...room.changed]);
    room.changed.clear();
    if (!frames.tryWrite(FromRooms.TICK, i, 0, frame)) dropped++;
  }
  frames.flush();
  if (dropped > 0 && dropped % 1000 === 1) process.stderr.write(`uws-worker rooms: ${dropped} tick frames dropped (ring full)\n`);
}, TICK_MS);
