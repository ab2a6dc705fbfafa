import { performance } from 'node:perf_hooks';
import { CodedError, ErrorCodes } from '@gos/schema';

/** What a {@link Heartbeat} needs from its connection. */
export interface HeartbeatHost {
  /** Queue a PING with this sequence number. @throws CodedError when the write queue is full. */
  sendPing(seq: number): void;
  /** The peer has been silent too long: drop the link with `reason`. */
  silent(reason: CodedError): void;
}

/**
 * Liveness of an open link: PING an idle socket every `heartbeatMs`, drop a peer silent for three
 * periods, measure the round trip from the PONG. Times are `performance.now()` ms.
 */
export class Heartbeat {
  readonly #heartbeatMs: number;
  readonly #host: HeartbeatHost;
  #timer: NodeJS.Timeout | null = null;
  #dueAt = 0;
  #lastReceivedAt = 0;
  #lastSentAt = 0;
  #pingSeq = 0;
  #pingSentAt = 0;
  #rttMs: number | null = null;

  constructor(heartbeatMs: number, host: HeartbeatHost) {
    this.#heartbeatMs = heartbeatMs;
    this.#host = host;
  }

  /** Round trip of the last answered PING, in ms; `null` before the first. */
  get rttMs(): number | null {
    return this.#rttMs;
  }

  /** The peer sent data at `now`. */
  received(now: number): void {
    this.#lastReceivedAt = now;
  }

  /** A batch went to the socket at `now`. */
  sent(now: number): void {
    this.#lastSentAt = now;
  }

  /** The link is open: count silence from `now` and arm the first beat. */
  start(now: number): void {
    this.#lastReceivedAt = now;
    this.#lastSentAt = now;
    this.#arm(this.#heartbeatMs);
  }

  /** A PONG answering `seq` arrived; an answer to an older PING is ignored. */
  pong(seq: number): void {
    if (this.#pingSentAt !== 0 && seq === this.#pingSeq) {
      this.#rttMs = performance.now() - this.#pingSentAt;
      this.#pingSentAt = 0;
    }
  }

  /** No more beats: the link is closing. */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(delayMs: number): void {
    this.#dueAt = performance.now() + delayMs;
    this.#timer = setTimeout(this.#onBeat, delayMs);
    this.#timer.unref();
  }

  readonly #onBeat = (): void => {
    this.#timer = null;
    const now = performance.now();
    const heartbeatMs = this.#heartbeatMs;
    const deadAfterMs = 3 * heartbeatMs;
    // Timers run before I/O in each loop iteration. If this timer fires late, our own loop was
    // blocked, and what the peer sent meanwhile is still unread: do not judge the peer on that.
    // After such a stall the peer gets one more heartbeat period, and a PING to answer.
    const late = now - this.#dueAt > heartbeatMs;
    if (late) {
      this.#lastReceivedAt = Math.max(this.#lastReceivedAt, now + heartbeatMs - deadAfterMs);
      this.#lastSentAt = -Infinity;
    }
    const silentMs = now - this.#lastReceivedAt;
    if (silentMs >= deadAfterMs) {
      this.#host.silent(
        new CodedError(ErrorCodes.LNK_ERR_CLOSED, `peer silent for ${Math.round(silentMs)} ms (heartbeat timeout, 3 × ${heartbeatMs} ms)`),
      );
      return;
    }
    if (now - this.#lastSentAt >= heartbeatMs) {
      this.#pingSeq = (this.#pingSeq + 1) >>> 0;
      this.#pingSentAt = now;
      try {
        this.#host.sendPing(this.#pingSeq);
      } catch {
        // Queue full: the socket is not idle, the peer hears from us anyway.
      }
      // A PING is about to go out: the next look is one heartbeat from now at the latest.
      this.#lastSentAt = now;
    }
    const nextMs = Math.min(this.#lastSentAt + heartbeatMs, this.#lastReceivedAt + deadAfterMs) - now;
    this.#arm(Math.max(1, Math.ceil(nextMs)));
  };
}
