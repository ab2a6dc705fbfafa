/**
 * When a scene ticks: every `tickMs` against an ideal timeline (the rate does not drift with the
 * time each tick takes; after a long stall the missed ticks are skipped, not run back to back).
 *
 * The timeline is the wall-clock grid of `tickMs`: a scene started afresh (or back from a long
 * stall) ticks at the multiples of `tickMs` since the epoch, the first one at least an interval
 * away. Every scene of a thread with the same interval then ticks in the same timer run: the
 * thread wakes once per interval for all of them, not once per scene, and so does the main
 * thread that takes their frames. Engines whose clocks agree tick in step too.
 *
 * A scene moved in live starts in step with the engine it left: its first tick comes when that
 * engine would have ticked next, once the players it sent on are in (or FIRST_TICK_MAX_WAIT_TICKS
 * intervals past then, with whoever is): its players hear the usual interval between two ticks
 * plus only what the move itself took beyond it, instead of the move and a whole interval more.
 * A first tick that comes off the grid (the players came late, the source's clock disagrees) is
 * followed by the first grid point at least half an interval later, and the grid from then on.
 */
import { tickGridAtOrAfter } from '@gos/schema';
import { FIRST_TICK_MAX_WAIT_TICKS } from '../records.js';

/** The clock a schedule reads: this thread's (performance) by default; a test's own. */
export interface TickClock {
  now(): number;
  /** Its time 0, ms since the epoch. */
  readonly origin: number;
}

const THREAD_CLOCK: TickClock = { now: () => performance.now(), origin: performance.timeOrigin };

export class TickSchedule {
  readonly #tickMs: number;
  /** Runs one tick: `now` and the time since the last one, ms (this thread's clock). */
  readonly #run: (now: number, elapsedMs: number) => void;
  readonly #playersIn: () => number;
  readonly #clock: TickClock;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the next tick is due; null before the first is planned. */
  #due: number | null = null;
  #waiting: { readonly due: number; readonly players: number; readonly cap: ReturnType<typeof setTimeout> } | null = null;
  #stopped = false;
  #afterNext: Array<() => void> = [];

  constructor(tickMs: number, run: (now: number, elapsedMs: number) => void, playersIn: () => number, clock: TickClock = THREAD_CLOCK) {
    this.#tickMs = tickMs;
    this.#run = run;
    this.#playersIn = playersIn;
    this.#clock = clock;
  }

  /** The first tick on the grid, at least one interval from now. */
  start(): void {
    const now = this.#clock.now();
    this.#schedule(this.#gridAtOrAfter(now + this.#tickMs) - this.#tickMs, now);
  }

  /** A scene moved in live: the first tick at `dueAt` (ms since the epoch) once `players` are in. */
  startInStep(dueAt: number, players: number): void {
    const now = this.#clock.now();
    // Never later than one interval from now: a source whose clock runs ahead must not hold it back.
    const due = Math.min(dueAt - this.#clock.origin, now + this.#tickMs);
    this.#due = due;
    const latest = Math.max(due, now) + FIRST_TICK_MAX_WAIT_TICKS * this.#tickMs;
    this.#waiting = { due, players, cap: setTimeout(() => this.#firstIfIn(true), latest - this.#clock.now()) };
    this.#firstIfIn(false);
  }

  /**
   * Call `fn` right after the next tick; false (and `fn` not called) when no tick is coming
   * within `withinMs`: a service, a scene still waiting for its players' first tick, or a tick
   * interval longer than that.
   */
  afterNextTick(fn: () => void, withinMs: number): boolean {
    if (this.#stopped || this.#waiting !== null || this.#due === null || this.#due - this.#clock.now() > withinMs) return false;
    this.#afterNext.push(fn);
    return true;
  }

  /** A player joined: the first tick may be due now. */
  playerJoined(): void {
    this.#firstIfIn(false);
  }

  /** When the next tick is (or was, once stopped) due, ms since the epoch; undefined before the first is planned. */
  get nextTickAt(): number | undefined {
    return this.#due === null ? undefined : this.#clock.origin + this.#due;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#waiting !== null) clearTimeout(this.#waiting.cap);
  }

  #firstIfIn(force: boolean): void {
    const waiting = this.#waiting;
    if (waiting === null || this.#stopped || (!force && this.#playersIn() < waiting.players)) return;
    this.#waiting = null;
    clearTimeout(waiting.cap);
    const at = Math.max(this.#clock.now(), waiting.due);
    // As if the last tick had run one interval before its due time: the first tick's elapsed time spans the move.
    this.#schedule(at - this.#tickMs, waiting.due - this.#tickMs);
  }

  #schedule(expectedAt: number, lastAt: number): void {
    const next = expectedAt + this.#tickMs;
    this.#due = next;
    this.#timer = setTimeout(() => {
      const now = this.#clock.now();
      this.#run(now, now - lastAt);
      if (this.#afterNext.length > 0) {
        const after = this.#afterNext;
        this.#afterNext = [];
        for (const fn of after) fn();
      }
      if (this.#stopped) return;
      // The next tick is on the grid: one interval on from a tick that was on it; from one that
      // was not (a scene moved in from a source off this engine's grid, or whose players came
      // late), the first point at least half an interval on. Far behind (a long stall), the
      // missed ticks are skipped. Gateways hold inputs for the grid (docs/link.md): a scene
      // that stayed off it would take held inputs a tick late.
      const following = now - next > this.#tickMs * 5 ? this.#gridAtOrAfter(now + this.#tickMs) : this.#gridAtOrAfter(next + this.#tickMs / 2);
      this.#schedule(following - this.#tickMs, now);
    }, Math.max(0, next - this.#clock.now()));
  }

  /** The first point of the grid (a multiple of tickMs since the epoch) at or after `t` (less a microsecond), on this clock. */
  #gridAtOrAfter(t: number): number {
    const origin = this.#clock.origin;
    return tickGridAtOrAfter(origin + t, this.#tickMs) - origin;
  }
}
