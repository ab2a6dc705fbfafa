import { ErrorCodes, FRAME_HEADER_BYTES, FrameKind, type RouteDef } from '@gos/schema';
import type { GatewayMetrics } from './metrics.js';
import { readRequestId, type ConnData, type Socket } from './socket.js';

/** What the pending-request bookkeeping needs from the gateway. */
export interface PendingRequestsDeps {
  /** Requests one socket may have waiting for an answer (`limits.maxPendingRequests`). */
  readonly maxPendingRequests: number;
  /** The game's routes by opcode: an answer's latency is observed under its route's name. */
  readonly routeById: ReadonlyMap<number, RouteDef>;
  readonly metrics: GatewayMetrics;
  /** Answer a request with an ERROR frame the gateway makes itself. */
  sendError(ws: Socket, opcode: number, requestId: number, code: string, message: string): void;
}

/**
 * The requests of each socket that wait for the engine's answer (ConnData.pending): tracked as
 * they are forwarded or held, done when the engine answers (their latency observed), and
 * refused at once with a retryable error when the player's engine is lost or its scene moves
 * or crashes, rather than left to the client's timeout.
 */
export class PendingRequests {
  readonly #d: PendingRequestsDeps;

  constructor(deps: PendingRequestsDeps) {
    this.#d = deps;
  }

  /**
   * Remember a request that waits for the engine's answer (see ConnData.pending); false, with
   * the request refused, when the socket already has `maxPendingRequests` waiting.
   */
  track(ws: Socket, data: ConnData, opcode: number, requestId: number): boolean {
    if (data.pending.size >= this.#d.maxPendingRequests && !data.pending.has(requestId)) {
      this.#d.sendError(ws, opcode, requestId, ErrorCodes.GW_ERR_TOO_MANY_PENDING, `more than ${this.#d.maxPendingRequests} requests waiting for an answer`);
      return false;
    }
    data.pending.set(requestId, { opcode, at: performance.now() });
    return true;
  }

  /** A frame from the engine for the socket whose requests are `pending`: an answer is done. */
  answered(pending: ConnData['pending'], frame: Uint8Array): void {
    // The answer to a request: it no longer waits (only RESPONSE and ERROR frames answer).
    if (pending.size > 0 && frame.byteLength >= FRAME_HEADER_BYTES && (frame[0] === FrameKind.RESPONSE || frame[0] === FrameKind.ERROR)) {
      const requestId = readRequestId(frame);
      const request = pending.get(requestId);
      if (request !== undefined) {
        pending.delete(requestId);
        this.#d.metrics.requestSeconds.observe({ route: this.#d.routeById.get(request.opcode)?.name ?? 'unknown' }, (performance.now() - request.at) / 1000);
      }
    }
  }

  /** Answer those of `requestIds` still waiting (retryable): their scene will not answer them. */
  failSome(ws: Socket, data: ConnData, requestIds: ReadonlySet<number>, message: string): void {
    for (const requestId of requestIds) {
      const request = data.pending.get(requestId);
      if (request === undefined) continue;
      data.pending.delete(requestId);
      this.#d.sendError(ws, request.opcode, requestId, ErrorCodes.GW_ERR_SCENE_MOVED, message);
    }
  }

  /** Answer every request still waiting on the engine the player just lost (retryable), but those in `except`. */
  failAll(ws: Socket, data: ConnData, message: string, except?: ReadonlySet<number>): void {
    if (data.pending.size === 0) return;
    const pending = [...data.pending];
    for (const [requestId, { opcode }] of pending) {
      if (except?.has(requestId) === true) continue;
      data.pending.delete(requestId);
      this.#d.sendError(ws, opcode, requestId, ErrorCodes.GW_ERR_SCENE_MOVED, message);
    }
  }
}
