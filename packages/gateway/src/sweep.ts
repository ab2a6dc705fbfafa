import { CloseCode, type Logger } from '@gos/schema';
import type { ResolvedGatewayOptions } from './options.js';
import type { SessionStore } from './session/index.js';
import { connOf, type ConnData, type Socket } from './socket.js';

/** How often a connected socket extends (and re-checks) its session. */
const SESSION_TOUCH_MS = 30_000;
/** A join the engine has not confirmed by then is given up (store down, scene stuck). */
export const JOIN_TIMEOUT_MS = 15_000;

export interface SweepDeps {
  readonly limits: ResolvedGatewayOptions['limits'];
  readonly sessions: SessionStore;
  /** Close a socket with a code (the gateway's own close: metrics, LEAVE to the engine). */
  readonly end: (ws: Socket, code: number, reason: string) => void;
  /**
   * A travel under way for longer than its timeout: given up if the player is still in its scene
   * (false), or true when the player is out of its scene on an engine that never answered.
   */
  readonly travelStuck: (ws: Socket, data: ConnData, now: number) => boolean;
  readonly logger: Logger;
}

/**
 * The gateway's periodic look at every socket: idle ones, joins the engine never confirmed and
 * slow readers are closed; a connected socket extends its session now and then, and is closed
 * when the session was revoked meanwhile (a login elsewhere).
 */
export function sweepSockets(sockets: Iterable<Socket>, now: number, deps: SweepDeps): void {
  const { idleTimeoutMs, maxBackpressureBytes } = deps.limits;
  for (const ws of sockets) {
    const data = connOf(ws);
    if (now - data.lastFrameAt > idleTimeoutMs) {
      deps.end(ws, CloseCode.IDLE_TIMEOUT, 'idle');
      continue;
    }
    if (data.state === 'joining' && now - data.joinSentAt > JOIN_TIMEOUT_MS) {
      deps.end(ws, CloseCode.JOIN_FAILED, 'join timed out');
      continue;
    }
    if (data.travel !== null && deps.travelStuck(ws, data, now)) {
      // The client reconnects with its token and is placed in its scene from its last save.
      deps.end(ws, CloseCode.JOIN_FAILED, 'travel timed out');
      continue;
    }
    // Broadcasts go through uWS topics, so backpressure can grow without a direct send.
    if (ws.getBufferedAmount() > maxBackpressureBytes) {
      deps.end(ws, CloseCode.SLOW_CONSUMER, 'reading too slowly');
      continue;
    }
    if (data.session !== null && now - data.lastTouchAt > SESSION_TOUCH_MS) {
      data.lastTouchAt = now;
      // Sliding expiry while connected: the token stays valid for a reconnect. A session
      // revoked meanwhile (a new login, possibly through another gateway) ends the socket.
      deps.sessions.touch(data.session.token).then(
        (alive) => {
          if (!alive) deps.end(ws, CloseCode.AUTH_INVALID, 'session revoked or expired');
        },
        (err: unknown) => deps.logger.warn({ err }, 'session touch failed'),
      );
    }
  }
}
