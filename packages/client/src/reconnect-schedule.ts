import type { ClientReconnectingEvent } from './client-events.js';
import { isFinalCloseCode, isGatewayGone } from './close-codes.js';
import type { ResolvedReconnectOptions } from './options.js';

/** Which gateway the next socket opens, whether to try again after a close, and when. */
export class ReconnectSchedule {
  #socketUrls: readonly string[];
  readonly #options: ResolvedReconnectOptions;
  /** Which of `socketUrls` the next socket opens. */
  #urlIndex = 0;
  /** Gateways an explicit connect() may still try when the one it tried cannot be reached. */
  #fallbacksLeft = 0;
  /** Reconnect attempts since the last accepted connection. */
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(socketUrls: readonly string[], options: ResolvedReconnectOptions) {
    this.#socketUrls = socketUrls;
    this.#options = options;
  }

  /** The URL the next socket opens. */
  get url(): string {
    return this.#socketUrls[this.#urlIndex]!;
  }

  get urlIndex(): number {
    return this.#urlIndex;
  }

  /** An explicit connect(): no attempts yet, and every other gateway left to fall back on. */
  beginConnect(): void {
    this.#attempt = 0;
    this.#fallbacksLeft = this.#socketUrls.length - 1;
  }

  onAccepted(): void {
    this.#attempt = 0;
  }

  /**
   * An explicit connect() whose gateway cannot be reached (login may name one that died a
   * moment ago) moves on to the next one at once; true when it did. A refusal is final.
   */
  tryFallback(code: number): boolean {
    if (this.#fallbacksLeft <= 0 || !isGatewayGone(code)) return false;
    this.#fallbacksLeft--;
    this.#nextUrl();
    return true;
  }

  /** Reconnect after close `code`? Only after an accepted connection or during reconnection: an explicit connect() that fails is reported to its caller. */
  shouldRetry(code: number, afterAccepted: boolean): boolean {
    const r = this.#options;
    return r.enabled && !isFinalCloseCode(code) && afterAccepted && this.#attempt < r.maxAttempts;
  }

  /**
   * The gateway may be gone: a refused or failed attempt, a lost connection or a gateway
   * shutting down moves on to the next one (they share sessions).
   */
  afterLoss(code: number, wasAccepted: boolean): void {
    if (!wasAccepted || isGatewayGone(code)) this.#nextUrl();
  }

  /** Count the next attempt and choose its back-off. */
  nextAttempt(): ClientReconnectingEvent {
    const { minDelayMs, maxDelayMs } = this.#options;
    const attempt = ++this.#attempt;
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** (attempt - 1));
    // Jitter keeps the players of a gateway that went down from reconnecting in lockstep.
    const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    return { attempt, delayMs };
  }

  schedule(delayMs: number, due: () => void): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      due();
    }, delayMs);
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The next socket opens `url` (a gateway the client was told to move to), then the others in turn. */
  useUrl(url: string): void {
    this.#socketUrls = [url, ...this.#socketUrls.filter((u) => u !== url)];
    this.#urlIndex = 0;
  }

  #nextUrl(): void {
    this.#urlIndex = (this.#urlIndex + 1) % this.#socketUrls.length;
  }
}
