/**
 * The failover load's ledger: every input a bot sent (when, by whom, with which seq) and what
 * became of it (acknowledged after how long, never acknowledged, or dropped while its scene was
 * resuming), and when sockets closed and ERROR frames came. The failover's times are known only
 * at the end; the ledger then cuts latency and losses into the windows before, during and after.
 */
import { LatencyRecorder, round } from '../stats.js';

/** Inputs sent in a window and what became of them. */
export interface WindowStats {
  readonly seconds: number;
  readonly inputs: number;
  readonly acked: number;
  /** Never acknowledged (excluding those dropped while the bot's scene was resuming). */
  readonly unacked: number;
  /** input → ack, over the inputs sent in the window. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Sockets closed by the server in the window. */
  readonly closes: number;
  /** ERROR frames received in the window. */
  readonly errors: number;
}

/** Outcome of an input not acknowledged (yet). */
const UNACKED = -1;
/** Outcome of an input dropped because its scene was resuming. */
const DROPPED = -2;

interface BotEvent {
  readonly at: number;
  readonly bot: number;
}

export class InputLedger {
  // One entry per input, by its index (column arrays: a minute of 10,000 inputs a second).
  readonly #sentAt: number[] = [];
  readonly #bot: number[] = [];
  readonly #seq: number[] = [];
  /** Latency in ms once acknowledged; UNACKED or DROPPED otherwise. */
  readonly #outcome: number[] = [];
  readonly #closes: BotEvent[] = [];
  readonly #errors: BotEvent[] = [];

  /** Sockets the server closed so far. */
  get closes(): number {
    return this.#closes.length;
  }

  /** Bot `bot` sent move `seq` at `at`: the input's index. */
  sent(at: number, bot: number, seq: number): number {
    const k = this.#sentAt.length;
    this.#sentAt.push(at);
    this.#bot.push(bot);
    this.#seq.push(seq);
    this.#outcome.push(UNACKED);
    return k;
  }

  /** The seq input `k` carried. */
  seqOf(k: number): number {
    return this.#seq[k]!;
  }

  /** Input `k` was acknowledged at `now`. */
  acked(k: number, now: number): void {
    this.#outcome[k] = now - this.#sentAt[k]!;
  }

  /** Input `k` was in flight or sent while its scene resumed: never processed. */
  dropped(k: number): void {
    this.#outcome[k] = DROPPED;
  }

  closed(at: number, bot: number): void {
    this.#closes.push({ at, bot });
  }

  errored(at: number, bot: number): void {
    this.#errors.push({ at, bot });
  }

  /** Inputs dropped by the bots marked in `isAffected`. */
  droppedBy(isAffected: Uint8Array): number {
    let n = 0;
    for (let k = 0; k < this.#outcome.length; k++) if (this.#outcome[k] === DROPPED && isAffected[this.#bot[k]!] === 1) n++;
    return n;
  }

  /** The inputs sent in [from, to) by the bots that are (or are not) marked in `isAffected`, and what became of them. */
  window(from: number, to: number, isAffected: Uint8Array, affected: boolean): WindowStats {
    const lat = new LatencyRecorder();
    let inputs = 0;
    let acked = 0;
    let unacked = 0;
    for (let k = 0; k < this.#sentAt.length; k++) {
      const at = this.#sentAt[k]!;
      if (at < from || at >= to || (isAffected[this.#bot[k]!] === 1) !== affected) continue;
      const out = this.#outcome[k]!;
      if (out === DROPPED) continue;
      inputs++;
      if (out === UNACKED) unacked++;
      else {
        acked++;
        lat.record(out);
      }
    }
    const inWindow = (e: BotEvent): boolean => e.at >= from && e.at < to && (isAffected[e.bot] === 1) === affected;
    const s = lat.summary();
    return {
      seconds: round(Math.max(0, to - from) / 1000, 3),
      inputs,
      acked,
      unacked,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
      maxMs: s.maxMs,
      closes: this.#closes.filter(inWindow).length,
      errors: this.#errors.filter(inWindow).length,
    };
  }
}
