/**
 * One bot of the failover load: its socket, its moves waiting for their ack, the position it
 * sent with each recent seq, and what happened to it in a failover (when `SceneResumed` came,
 * the position the new engine loaded, its first acknowledged move after that).
 */
import type WebSocket from 'ws';

/** Positions kept per bot, by seq modulo this: a minute of moves at 10 Hz. */
const HISTORY = 1024;

export interface Bot {
  readonly index: number;
  readonly scene: number;
  ws: WebSocket | null;
  /** Number in ticks; changes when the scene resumes elsewhere. */
  id: number;
  seq: number;
  x: number;
  y: number;
  /** Input indexes (InputLedger) waiting for their ack, oldest first (from `head`). */
  readonly pending: number[];
  head: number;
  /** Position sent with seq s at [s % HISTORY], and which seq wrote the slot. */
  readonly histX: Float32Array;
  readonly histY: Float32Array;
  readonly histSeq: Int32Array;
  ackedSeq: number;
  welcomes: number;
  affected: boolean;
  closedAt: number | null;
  resumedAt: number | null;
  rejoinedAt: number | null;
  firstAckAt: number | null;
  lostMoves: number | null;
}

/** Bot `index`, playing in the scene of gateway `scene`, before it connects. */
export function newBot(index: number, scene: number): Bot {
  return {
    index,
    scene,
    ws: null,
    id: -1,
    seq: 0,
    x: 0,
    y: 0,
    pending: [],
    head: 0,
    histX: new Float32Array(HISTORY),
    histY: new Float32Array(HISTORY),
    histSeq: new Int32Array(HISTORY).fill(-1),
    ackedSeq: 0,
    welcomes: 0,
    affected: false,
    closedAt: null,
    resumedAt: null,
    rejoinedAt: null,
    firstAckAt: null,
    lostMoves: null,
  };
}

/** The bot sent (x, y) with `seq` (seq 0: where its scene put it). */
export function recordPosition(b: Bot, seq: number, x: number, y: number): void {
  const slot = seq % HISTORY;
  b.histX[slot] = x;
  b.histY[slot] = y;
  b.histSeq[slot] = seq;
}

/** The position the bot sent with `seq` 0 (where its scene put it). */
export function firstPosition(b: Bot): { x: number; y: number } {
  return { x: b.histX[0]!, y: b.histY[0]! };
}

/**
 * Moves acknowledged before the kill that the resume undid: the new engine loaded the position
 * the bot sent with some seq s (the last one the dead engine saved); every acknowledged seq
 * after s is lost. Null when the position is none the bot sent in the last HISTORY moves.
 */
export function lostMoves(b: Bot, x: number, y: number): number | null {
  for (let seq = b.seq; seq >= 0 && seq > b.seq - HISTORY; seq--) {
    const slot = seq % HISTORY;
    if (b.histSeq[slot] === seq && b.histX[slot] === x && b.histY[slot] === y) return Math.max(0, b.ackedSeq - seq);
  }
  return null;
}
