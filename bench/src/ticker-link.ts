/** The bench's side of the `ticker` scene (targets/project/ticker.ts): commands and figures over a BroadcastChannel. */
import { BroadcastChannel } from 'node:worker_threads';
import { LatencyRecorder } from './stats.js';
import { TICKER_CHANNEL, isTickerReport, type TickerCommand, type TickerReport } from './targets/project/ticker.js';

/** A ticker scene's figures, asked for over the channel. */
export class TickerLink {
  readonly #channel = new BroadcastChannel(TICKER_CHANNEL);
  readonly #waiting: Array<(r: TickerReport) => void> = [];

  constructor() {
    this.#channel.onmessage = (e: MessageEvent) => {
      const report: unknown = e.data;
      if (!isTickerReport(report)) return;
      for (const w of this.#waiting.splice(0)) w(report);
    };
  }

  send(cmd: TickerCommand): void {
    this.#channel.postMessage(cmd);
  }

  /** Send `cmd` and wait for the scene's answer of type `type`. */
  async ask<T extends TickerReport['type']>(cmd: TickerCommand, type: T, timeoutMs = 120_000): Promise<Extract<TickerReport, { type: T }>> {
    const answer = new Promise<TickerReport>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} from ${cmd.sceneId} within ${timeoutMs} ms`)), timeoutMs);
      const wait = (r: TickerReport): void => {
        if (r.type === type && r.sceneId === cmd.sceneId) {
          clearTimeout(timer);
          resolve(r);
        } else this.#waiting.push(wait);
      };
      this.#waiting.push(wait);
    });
    this.send(cmd);
    return (await answer) as Extract<TickerReport, { type: T }>;
  }

  close(): void {
    this.#channel.close();
  }
}

export function summarize(values: readonly number[]): { p50Ms: number; p99Ms: number; count: number } {
  const r = new LatencyRecorder();
  for (const v of values) r.record(v);
  const s = r.summary();
  return { p50Ms: s.p50Ms, p99Ms: s.p99Ms, count: s.count };
}

