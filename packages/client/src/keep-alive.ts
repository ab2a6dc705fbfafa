import { FrameKind, encodeFrame } from '@gos/schema';
import { nextRequestId } from './request-ids.js';

function unref(timer: ReturnType<typeof setInterval>): void {
  // Node's timers have unref(); browsers' are numbers.
  (timer as { unref?: () => void }).unref?.();
}

/** PING frames: the interval that keeps the gateway's idle timeout from firing, and the round-trip time from the PONGs. */
export class KeepAlive {
  readonly #intervalMs: number;
  readonly #send: (frame: Uint8Array) => boolean;
  readonly #isOpen: () => boolean;
  #lastPingId = 0;
  /** Id and send time of the latest PING, for the round-trip time. */
  #pingId = 0;
  #pingSentAt = 0;
  #rttMs: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** `intervalMs` 0 sends no PING on a timer; `isOpen` says whether one is due when it fires. */
  constructor(intervalMs: number, send: (frame: Uint8Array) => boolean, isOpen: () => boolean) {
    this.#intervalMs = intervalMs;
    this.#send = send;
    this.#isOpen = isOpen;
  }

  /** Round-trip time of the latest answered PING, in ms; undefined before the first PONG. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  ping(): void {
    const id = (this.#lastPingId = nextRequestId(this.#lastPingId));
    if (this.#send(encodeFrame(FrameKind.PING, 0, id, null))) {
      this.#pingId = id;
      this.#pingSentAt = performance.now();
    }
  }

  onPong(requestId: number): void {
    if (requestId === this.#pingId && this.#pingSentAt > 0) {
      this.#rttMs = performance.now() - this.#pingSentAt;
      this.#pingSentAt = 0;
    }
  }

  start(): void {
    if (this.#intervalMs > 0) {
      this.#timer = setInterval(this.#onInterval, this.#intervalMs);
      unref(this.#timer);
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  readonly #onInterval = (): void => {
    if (this.#isOpen()) this.ping();
  };
}
