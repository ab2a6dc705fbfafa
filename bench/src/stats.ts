/**
 * Latency statistics: an HDR histogram (node:perf_hooks) in microseconds, so millions of
 * samples cost a fixed, small amount of memory and percentiles are accurate to 1%.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export class LatencyRecorder {
  #h: RecordableHistogram = createHistogram({ lowest: 1, highest: 60_000_000, figures: 2 });

  /** Record one sample in milliseconds; negative values (clock skew) count as the smallest. */
  record(ms: number): void {
    const us = Math.round(ms * 1000);
    this.#h.record(us < 1 ? 1 : us > 60_000_000 ? 60_000_000 : us);
  }

  reset(): void {
    this.#h.reset();
  }

  get count(): number {
    return this.#h.count;
  }

  summary(): LatencySummary {
    const h = this.#h;
    if (h.count === 0) return { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
    return { count: h.count, p50Ms: round(h.percentile(50) / 1000), p99Ms: round(h.percentile(99) / 1000), maxMs: round(h.max / 1000) };
  }
}

/** Three significant decimals: enough for ms figures in a report. */
export function round(v: number, digits = 3): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

/**
 * Input seqs waiting for their ack, per client: a bounded FIFO of (seq, sentAt). Acks only grow,
 * so one ack settles every queued seq ≤ it.
 */
export class PendingInputs {
  readonly #seqs: number[] = [];
  readonly #times: number[] = [];
  #head = 0;
  /** Samples dropped because the queue was full (the server stopped acking). */
  dropped = 0;

  constructor(readonly capacity = 64) {}

  push(seq: number, sentAt: number): void {
    if (this.#seqs.length - this.#head >= this.capacity) {
      this.#head++;
      this.dropped++;
    }
    this.#seqs.push(seq);
    this.#times.push(sentAt);
  }

  /** Call `settle(sentAt)` for each queued seq ≤ ack and remove them. */
  ack(ack: number, settle: (sentAt: number) => void): void {
    const seqs = this.#seqs;
    while (this.#head < seqs.length && seqs[this.#head]! <= ack) {
      settle(this.#times[this.#head]!);
      this.#head++;
    }
    if (this.#head > 256 && this.#head * 2 > seqs.length) {
      seqs.splice(0, this.#head);
      this.#times.splice(0, this.#head);
      this.#head = 0;
    }
  }

  get size(): number {
    return this.#seqs.length - this.#head;
  }
}
