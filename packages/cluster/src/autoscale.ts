/**
 * `npm run cluster -- --autoscale`: the launcher acting on the leader's scale decision
 * (docs/scaling.md "Scale decisions") for its engines and gateways. For each role it starts a
 * process at once when the decision asks for more (one step at a time, the next once the last
 * is ready), and stops the last one it added when the decision has asked for fewer for
 * `scaleInAfterMs` (a stop drains: an engine's scenes move live to the others, a gateway's
 * clients move to the other gateways). It never goes below the processes the launcher started
 * with, nor above the role's `max`.
 */
import { EtcdCoordinator } from '@gos/coordinator';
import type { ClusterConfig } from './config.js';
import { scaleStatus } from './status.js';

export interface ScaledRole {
  /** Processes of the role the launcher started with: never fewer. */
  readonly min: number;
  readonly max: number;
  /** Start number `n` (`engine-<n>`, `gateway-<n>`); resolves once it is ready, rejects when it is given up. */
  readonly start: (n: number) => Promise<void>;
  /** Stop number `n` for good (it drains); resolves once it has exited. */
  readonly stop: (n: number) => Promise<void>;
}

export interface AutoscaleOptions {
  readonly config: ClusterConfig;
  readonly engines: ScaledRole;
  /** Gateways too, when given. */
  readonly gateways?: ScaledRole;
  /** How long the decision must ask for fewer processes of a role before one is stopped. */
  readonly scaleInAfterMs: number;
  /** How often the decision is read. @default 1000 */
  readonly intervalMs?: number;
  readonly report: (line: string) => void;
}

type ScaledName = 'engine' | 'gateway';

/** One role's processes and the memory of what the decision asked for lately. */
class Pool {
  /** Numbers of the processes of this role the launcher runs, in the order they were started (the first `min` its own). */
  readonly numbers: number[];
  /** The number of the next new one: only goes up (a given-up `<role>-n` is not reused). */
  next: number;
  /** Numbers stopped cleanly (scaled in): reused first, so added gateways keep to their ports. */
  readonly free: number[] = [];
  /** Consecutive reads asking for more: a scale-out needs two (a new leader's first read may be stale). */
  highReads = 0;
  /** Since when the decision has asked for fewer than run. */
  lowSince: number | null = null;

  constructor(
    readonly name: ScaledName,
    readonly o: ScaledRole,
  ) {
    this.numbers = Array.from({ length: o.min }, (_, i) => i + 1);
    this.next = o.min + 1;
  }
}

export class Autoscaler {
  readonly #o: AutoscaleOptions;
  readonly #coordinator: EtcdCoordinator;
  readonly #pools: Pool[];
  /** The step under way (a start or a stop), awaited by close(). */
  #step: Promise<void> | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(o: AutoscaleOptions) {
    this.#o = o;
    this.#coordinator = new EtcdCoordinator({ hosts: o.config.etcd.hosts, prefix: o.config.etcd.prefix });
    this.#pools = [new Pool('engine', o.engines), ...(o.gateways === undefined ? [] : [new Pool('gateway', o.gateways)])];
  }

  /** Engines this launcher runs. */
  get engines(): number {
    return this.#pools[0]!.numbers.length;
  }

  /** Gateways this launcher runs (0 when it does not scale them). */
  get gateways(): number {
    return this.#pools[1]?.numbers.length ?? 0;
  }

  async start(): Promise<void> {
    await this.#coordinator.start();
    this.#timer = setInterval(() => void this.#pass(), this.#o.intervalMs ?? 1000);
    const range = (p: Pool): string => `${p.name}s between ${p.o.min} and ${p.o.max}`;
    this.#o.report(`autoscale: ${this.#pools.map(range).join(', ')}, following the leader's scale decision (fewer after ${this.#o.scaleInAfterMs / 1000} s asking for fewer)`);
  }

  /** Stop following the decision; resolves once the step under way (a start or a drain) is over. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#step;
    await this.#coordinator.close().catch(() => {});
  }

  #pass(): void {
    if (this.#step !== null || this.#closed) return;
    const scale = scaleStatus(this.#coordinator.membership.list(), this.#coordinator.election.leader() ?? null);
    if (scale === null) return;
    // One step at a time, whichever role asks first.
    for (const pool of this.#pools) {
      // Compared with every live member of the role (fat processes and members started elsewhere count too).
      const { now, desired } = pool.name === 'engine' ? scale.engines : scale.gateways;
      if (this.#consider(pool, now, desired)) return;
    }
  }

  /** Act on one role's figures; true when a step started. */
  #consider(pool: Pool, now: number, desired: number): boolean {
    const { name, o } = pool;
    if (desired > now && pool.numbers.length < o.max) {
      pool.lowSince = null;
      if (++pool.highReads < 2) return false;
      pool.highReads = 0;
      const n = pool.free.length > 0 ? pool.free.splice(pool.free.indexOf(Math.min(...pool.free)), 1)[0]! : pool.next++;
      this.#run(`scale out: the leader asks for ${desired} ${name}s, ${now} run; starting ${name}-${n}`, async () => {
        pool.numbers.push(n);
        await o.start(n).catch((err: unknown) => {
          pool.numbers.splice(pool.numbers.indexOf(n), 1);
          throw err;
        });
      });
      return true;
    }
    pool.highReads = 0;
    if (desired >= now || pool.numbers.length <= o.min) {
      pool.lowSince = null;
      return false;
    }
    const t = Date.now();
    pool.lowSince ??= t;
    if (t - pool.lowSince < this.#o.scaleInAfterMs) return false;
    pool.lowSince = null;
    const n = pool.numbers.pop()!;
    this.#run(`scale in: the leader has asked for ${desired} ${name}s for ${this.#o.scaleInAfterMs / 1000} s, ${now} run; stopping ${name}-${n} (it drains)`, async () => {
      await o.stop(n);
      pool.free.push(n);
    });
    return true;
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
