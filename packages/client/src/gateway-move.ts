import { FrameFlag, FrameKind, encodeFrame, readFrameHeader, type Logger } from '@gos/schema';
import { ABNORMAL_CLOSURE } from './close-codes.js';
import { ReadyState, type WebSocketLike } from './websocket.js';

/** Longest a move waits for the requests under way on the old socket to be answered. */
export const MOVE_SETTLE_MS = 1000;
/** Longest a move waits for the old gateway's PONG to its barrier PING. */
export const MOVE_BARRIER_MS = 1000;
/** Longest a move waits for the new gateway to accept the socket before it stays where it is. */
export const MOVE_OPEN_MS = 5000;
/**
 * Frames a move holds at most (under the gateway's burst of 120 and its 128 frames before a
 * player is routed): past it, the oldest fire-and-forget input is dropped (a newer one
 * supersedes it); requests are always kept.
 */
export const MAX_HELD_FRAMES = 100;
/** The old socket is closed by its gateway once the new one has the player; after this, the client closes it. */
const OLD_SOCKET_GRACE_MS = 5000;
/** PING ids of barriers: above the keep-alive's (which count up from 1). */
const BARRIER_ID_BASE = 0x7000_0000;

/** What a move needs of the connection. */
export interface MovePort {
  /** Requests sent on the old socket and not answered yet. */
  inFlight(): number;
  /** Open a socket to `url`: the connection's current socket from then on (the old one still delivers its frames). */
  openSocket(url: string): void;
  /** The connection's current socket. */
  current(): WebSocketLike | null;
  /** Drop the current socket (never accepted): its handlers off, closed. */
  dropCurrent(): void;
  /** Make `ws` (the old socket, still open) the current, accepted socket again. */
  restore(ws: WebSocketLike): void;
  /** Send a frame on the current socket now. */
  sendNow(frame: Uint8Array): boolean;
  /** The held frames went out: their requests are under way. */
  released(): void;
  /** The move is over (done or given up): the connection forgets it. */
  over(): void;
  /** The move ended in a loss of both sockets: reconnect, to the new gateway first. */
  lost(code: number, reason: string, url: string): void;
  /** Done: later reconnects start with `url`; the game is told. */
  moved(url: string): void;
  readonly log: Logger;
}

/**
 * A move to another gateway (the core push `Reconnect`, sent by a gateway that drains): frames
 * the game sends meanwhile are held here, in order, and go out on the new socket once it is
 * accepted. The steps, so that the scene sees every frame once and in order:
 * 1. settling: the requests under way on the old socket are answered (at most MOVE_SETTLE_MS);
 * 2. barrier: a PING on the old socket, whose PONG says the old gateway has passed on every
 *    frame before it (at most MOVE_BARRIER_MS);
 * 3. opening: the socket to the new gateway opens with the same session; its engine hands the
 *    player's seat over once the old gateway has answered its SYNC (after those frames), and the
 *    old gateway then closes the old socket (SESSION_REPLACED, which the client ignores).
 */
export class GatewayMove {
  /** The new gateway's socket URL (with the session token). */
  readonly url: string;
  /** The socket being left. */
  readonly old: WebSocketLike;
  /** Frames sent during the move, in order. */
  readonly held: Uint8Array[] = [];
  #phase: 'settling' | 'barrier' | 'opening' | 'over' = 'settling';
  readonly #port: MovePort;
  readonly #barrierId: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(url: string, old: WebSocketLike, port: MovePort, seq: number) {
    this.url = url;
    this.old = old;
    this.#port = port;
    this.#barrierId = BARRIER_ID_BASE + (seq % 0x0fff_ffff);
  }

  get opening(): boolean {
    return this.#phase === 'opening';
  }

  /** Hold a frame the game sent during the move. */
  hold(frame: Uint8Array): void {
    this.held.push(frame);
    if (this.held.length <= MAX_HELD_FRAMES) return;
    const input = this.held.findIndex((f) => ((readFrameHeader(f)?.flags ?? 0) & FrameFlag.NO_REPLY) !== 0);
    if (input < 0) return;
    this.held.splice(input, 1);
    this.dropped++;
  }

  /** Fire-and-forget inputs dropped because too many frames were held. */
  dropped = 0;

  start(): void {
    this.#timer = setTimeout(this.#barrier, MOVE_SETTLE_MS);
    this.settled();
  }

  /** A request was answered, or gave up: go on once none is under way. */
  settled(): void {
    if (this.#phase === 'settling' && this.#port.inFlight() === 0) this.#barrier();
  }

  /** A PONG on the old socket: true when it answers the barrier (the move goes on). */
  pong(requestId: number): boolean {
    if (requestId !== this.#barrierId || this.#phase !== 'barrier') return false;
    this.#open();
    return true;
  }

  /** The move is over (done, given up, or the client closes): no timer is left. */
  end(): void {
    this.#phase = 'over';
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The new gateway accepted the socket: what was held goes out there, and the old socket is let go. */
  accepted(): void {
    this.end();
    this.#port.over();
    for (const frame of this.held) this.#port.sendNow(frame);
    this.#port.released();
    this.#retireOld();
    if (this.dropped > 0) this.#port.log.warn({ dropped: this.dropped }, 'inputs dropped while moving: more frames than a move holds');
    this.#port.log.info({ held: this.held.length }, 'moved to another gateway');
    this.#port.moved(this.url);
  }

  /**
   * A socket closed during the move. The new one, before it was accepted: back to the old one if
   * it is still open (its gateway closes it later; the client reconnects then), else a loss like
   * any other. The old one, before the new one was opened: a loss, reconnecting to the new gateway.
   */
  failed(code: number, reason: string): void {
    const opening = this.#phase === 'opening';
    this.end();
    this.#port.over();
    if (opening && this.old.readyState === ReadyState.OPEN) {
      this.#port.log.warn({ code, reason }, 'cannot move to the other gateway; staying on this one');
      this.#port.restore(this.old);
      for (const frame of this.held) this.#port.sendNow(frame);
      this.#port.released();
      return;
    }
    this.#port.lost(code, reason, this.url);
  }

  /** The new gateway did not accept the socket in time: it is closed, and the move given up. */
  readonly #abandon = (): void => {
    const ws = this.#port.current();
    if (this.#phase !== 'opening' || ws === null || ws === this.old) return;
    this.#port.dropCurrent();
    this.failed(ABNORMAL_CLOSURE, 'the other gateway did not accept the socket in time');
  };

  /** Close the old socket if its gateway has not, a little later (it normally does at once). */
  #retireOld(): void {
    const old = this.old;
    const timer = setTimeout(() => {
      if (old.readyState === ReadyState.OPEN || old.readyState === ReadyState.CONNECTING) old.close(1000, 'moved to another gateway');
    }, OLD_SOCKET_GRACE_MS);
    (timer as { unref?: () => void }).unref?.();
  }

  readonly #barrier = (): void => {
    if (this.#phase !== 'settling') return;
    clearTimeout(this.#timer);
    this.#phase = 'barrier';
    if (this.#port.inFlight() > 0) this.#port.log.warn({ inFlight: this.#port.inFlight(), settleMs: MOVE_SETTLE_MS }, 'moving to another gateway with requests still unanswered on the old one');
    if (this.old.readyState !== ReadyState.OPEN) return this.#open();
    try {
      this.old.send(encodeFrame(FrameKind.PING, 0, this.#barrierId, null));
    } catch {
      return this.#open();
    }
    this.#timer = setTimeout(this.#open, MOVE_BARRIER_MS);
  };

  readonly #open = (): void => {
    if (this.#phase !== 'barrier') return;
    clearTimeout(this.#timer);
    this.#phase = 'opening';
    this.#timer = setTimeout(this.#abandon, MOVE_OPEN_MS);
    this.#port.openSocket(this.url);
  };
}
