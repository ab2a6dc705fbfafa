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
  /** Engine numbers this launcher runs, in the order they were started (the first `minEngines` its own). */
  readonly #engines: number[];
  /** The number of the next engine started: only goes up (a given-up `engine-n` is not reused). */
  #next: number;
  /** The step under way (a start or a stop), awaited by close(). */
  #step: Promise<void> | null = null;
  /** Consecutive reads asking for more engines: a scale-out needs two (a new leader's first read may be stale). */
  #highReads = 0;
  /** Since when the decision has asked for fewer engines than run. */
  #lowSince: number | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(o: AutoscaleOptions) {
    this.#o = o;
    this.#coordinator = new EtcdCoordinator({ hosts: o.config.etcd.hosts, prefix: o.config.etcd.prefix });
    this.#engines = Array.from({ length: o.minEngines }, (_, i) => i + 1);
    this.#next = o.minEngines + 1;
  }

  /** Engines this launcher runs. */
  get engines(): number {
    return this.#engines.length;
  }

  async start(): Promise<void> {
    await this.#coordinator.start();
    this.#timer = setInterval(() => void this.#pass(), this.#o.intervalMs ?? 1000);
    this.#o.report(`autoscale: engines between ${this.#o.minEngines} and ${this.#o.maxEngines}, following the leader's scale decision (fewer after ${this.#o.scaleInAfterMs / 1000} s asking for fewer)`);
  }

  /** Stop following the decision; resolves once the step under way (a start or a drain) is over. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#step;
    await this.#coordinator.close().catch(() => {});
  }

  async #pass(): Promise<void> {
    if (this.#step !== null || this.#closed) return;
    const scale = scaleStatus(this.#coordinator.membership.list(), this.#coordinator.election.leader() ?? null);
    if (scale === null) return;
    const { maxEngines, minEngines, scaleInAfterMs } = this.#o;
    // Compared with every live engine (fat ones and engines started elsewhere count too).
    const { now, desired } = scale.engines;
    if (desired > now && this.#engines.length < maxEngines) {
      this.#lowSince = null;
      if (++this.#highReads < 2) return;
      this.#highReads = 0;
      const n = this.#next++;
      this.#run(`scale out: the leader asks for ${desired} engines, ${now} run; starting engine-${n}`, async () => {
        this.#engines.push(n);
        await this.#o.startEngine(n).catch((err: unknown) => {
          this.#engines.splice(this.#engines.indexOf(n), 1);
          throw err;
        });
      });
      return;
    }
    this.#highReads = 0;
    if (desired >= now || this.#engines.length <= minEngines) {
      this.#lowSince = null;
      return;
    }
    const t = Date.now();
    this.#lowSince ??= t;
    if (t - this.#lowSince < scaleInAfterMs) return;
    this.#lowSince = null;
    const n = this.#engines.pop()!;
    this.#run(`scale in: the leader has asked for ${desired} engines for ${scaleInAfterMs / 1000} s, ${now} run; stopping engine-${n} (it drains)`, () => this.#o.stopEngine(n));
  }

  #run(line: string, act: () => Promise<void>): void {
    this.#o.report(line);
    this.#step = act()
      .catch((err: unknown) => this.#o.report(`autoscale step failed: ${(err as Error).message}`))
      .finally(() => {
        this.#step = null;
      });
  }
}
