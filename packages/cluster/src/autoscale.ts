/**
 * `npm run cluster -- --autoscale`: the launcher acting on the leader's scale decision
 * (docs/scaling.md "Scale decisions") for its engines. It starts an engine at once when the
 * decision asks for more (one at a time, the next once it is ready), and stops the last one it
 * added when the decision has asked for fewer for `scaleInAfterMs` (a stop drains: the engine's
 * scenes move live to the others). It never goes below the engines the launcher started with,
 * nor above `maxEngines`.
 */
import { EtcdCoordinator } from '@gos/coordinator';
import type { ClusterConfig } from './config.js';
import { scaleStatus } from './status.js';

export interface AutoscaleOptions {
  readonly config: ClusterConfig;
  /** Engines the launcher started with: never fewer. */
  readonly minEngines: number;
  readonly maxEngines: number;
  /** How long the decision must ask for fewer engines before one is stopped. */
  readonly scaleInAfterMs: number;
  /** How often the decision is read. @default 1000 */
  readonly intervalMs?: number;
  /** Start engine number `n` (`engine-<n>`); resolves once it is ready, rejects when it is given up. */
  readonly startEngine: (n: number) => Promise<void>;
  /** Stop engine number `n` for good (it drains); resolves once it has exited. */
  readonly stopEngine: (n: number) => Promise<void>;
  readonly report: (line: string) => void;
}

export class Autoscaler {
  readonly #o: AutoscaleOptions;
  readonly #coordinator: EtcdCoordinator;
  /** Engine numbers running, in the order they were started (the first `minEngines` are the launcher's own). */
  readonly #engines: number[];
  #busy = false;
  /** Since when the decision has asked for fewer engines than run. */
  #lowSince: number | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(o: AutoscaleOptions) {
    this.#o = o;
    this.#coordinator = new EtcdCoordinator({ hosts: o.config.etcd.hosts, prefix: o.config.etcd.prefix });
    this.#engines = Array.from({ length: o.minEngines }, (_, i) => i + 1);
  }

  /** Engines running under the autoscaler's count. */
  get engines(): number {
    return this.#engines.length;
  }

  async start(): Promise<void> {
    await this.#coordinator.start();
    this.#timer = setInterval(() => void this.#pass(), this.#o.intervalMs ?? 1000);
    this.#o.report(`autoscale: engines between ${this.#o.minEngines} and ${this.#o.maxEngines}, following the leader's scale decision (fewer after ${this.#o.scaleInAfterMs / 1000} s asking for fewer)`);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#coordinator.close().catch(() => {});
  }

  async #pass(): Promise<void> {
    if (this.#busy || this.#closed) return;
    const scale = scaleStatus(this.#coordinator.membership.list(), this.#coordinator.election.leader() ?? null);
    if (scale === null) return;
    const { minEngines, maxEngines, scaleInAfterMs } = this.#o;
    const want = Math.min(maxEngines, Math.max(minEngines, scale.engines.desired));
    const running = this.#engines.length;
    if (want > running) {
      this.#lowSince = null;
      const n = Math.max(0, ...this.#engines) + 1;
      await this.#step(`scale out: the leader asks for ${scale.engines.desired} engines, ${running} run; starting engine-${n}`, async () => {
        this.#engines.push(n);
        await this.#o.startEngine(n).catch((err: unknown) => {
          this.#engines.splice(this.#engines.indexOf(n), 1);
          throw err;
        });
      });
      return;
    }
    if (want >= running) {
      this.#lowSince = null;
      return;
    }
    const now = Date.now();
    this.#lowSince ??= now;
    if (now - this.#lowSince < scaleInAfterMs) return;
    this.#lowSince = null;
    const n = this.#engines[this.#engines.length - 1]!;
    await this.#step(`scale in: the leader has asked for ${scale.engines.desired} engines for ${scaleInAfterMs / 1000} s, ${running} run; stopping engine-${n} (it drains)`, async () => {
      this.#engines.pop();
      await this.#o.stopEngine(n);
    });
  }

  async #step(line: string, act: () => Promise<void>): Promise<void> {
    this.#busy = true;
    this.#o.report(line);
    try {
      await act();
    } catch (err) {
      this.#o.report(`autoscale step failed: ${(err as Error).message}`);
    } finally {
      this.#busy = false;
    }
  }
}
