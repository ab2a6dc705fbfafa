/**
 * The `uws-worker` calibration target: the shape of a fat process with nothing of this framework
 * above its ring (bin/servers/uws-worker.ts, with its rooms thread in uws-worker-rooms.ts).
 * uWebSockets.js sockets on the main thread; the mmo-move rooms on one worker thread behind two
 * of the engine's SharedArrayBuffer rings; moves left in the ring and drained at the tick (no
 * wake-up per move); each tick's frames published together, one wake-up of the main thread per
 * tick. Same wire as the bare `uws` target (uws-wire.ts), so the same driver plays it.
 *
 * What separates it from `uws` is what the shape costs; what separates `project-fat` from it is
 * what the framework adds on top of the shape.
 */

/** Main thread → rooms thread records (`sid` = the player's id, `value` = its room). */
export const ToRooms = {
  /** A player joined the room. */
  JOIN: 1,
  /** A client's message, as it came (a MOVE, or anything else: the rooms thread decodes it). */
  MOVE: 2,
  /** The player's socket closed. */
  LEAVE: 3,
} as const;

/** Rooms thread → main thread: a room's TICK frame (`sid` = the room), to publish on its topic. */
export const FromRooms = { TICK: 1 } as const;

/** Players per room, as the bare target. */
export const ROOM_SIZE = 100;
export const TICK_MS = 100;
/** Bytes of each ring: a tick's moves at 4,000 clients are 4,000 × 32 bytes. */
export const RING_BYTES = 1 << 22;

/** The room topic of room `index`. */
export const roomTopic = (index: number): string => `r${index}`;

/** What the rooms thread is started with. */
export interface RoomsThreadData {
  readonly toRooms: SharedArrayBuffer;
  readonly fromRooms: SharedArrayBuffer;
}

/** The rooms thread's `workerData`, checked. */
export function roomsThreadData(data: unknown): RoomsThreadData {
  if (typeof data !== 'object' || data === null) throw new TypeError('uws-worker rooms: workerData must be an object');
  const toRooms: unknown = Reflect.get(data, 'toRooms');
  const fromRooms: unknown = Reflect.get(data, 'fromRooms');
  if (!(toRooms instanceof SharedArrayBuffer) || !(fromRooms instanceof SharedArrayBuffer)) {
    throw new TypeError('uws-worker rooms: workerData.toRooms and workerData.fromRooms must be SharedArrayBuffers');
  }
  return { toRooms, fromRooms };
}
