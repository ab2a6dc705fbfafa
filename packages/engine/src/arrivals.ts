/**
 * A draining engine paces its waves by their arrival: after each wave of live moves it waits
 * until every engine it moved scenes to reports the players it sent there (the load that engine
 * publishes in the membership), then moves the next wave, and leaves only once the last one has
 * arrived.
 *
 * Taking a crowded scene in is the target's busiest moment (claiming the rows, starting the
 * scene, every player's join); a second move that froze meanwhile would wait behind it, and its
 * players with it. Measured with `npm run bench -- engine-drain` (bench/RESULTS.md).
 */
import type { Membership } from '@gos/coordinator';

/** How long a wave waits for its players to be reported on their engines, at most. */
export const ARRIVAL_TIMEOUT_MS = 3000;
/**
 * The share of the players sent that an engine must report before the wave counts as arrived
 * (rounded down): a few may close their sockets during the move, and the wait must not run to
 * its timeout for them.
 */
export const ARRIVED_SHARE = 0.9;

/** Players sent to each engine by a wave, and that engine's load when the wave started. */
export class WaveArrivals {
  readonly #membership: Pick<Membership, 'get' | 'watch'>;
  /** Engine id → the load it must report (its load before the wave plus most of the players sent). */
  readonly #expected = new Map<string, number>();
  readonly #before: ReadonlyMap<string, number>;

  /** Taken before the wave's moves start: every engine's load then. */
  constructor(membership: Pick<Membership, 'get' | 'watch' | 'list'>) {
    this.#membership = membership;
    this.#before = new Map(membership.list('engine').map((m) => [m.id, m.load]));
  }

  /** A scene of the wave moved to `engineId` with `players`. */
  sent(engineId: string, players: number): void {
    if (players === 0) return;
    const base = this.#expected.get(engineId) ?? this.#before.get(engineId) ?? 0;
    this.#expected.set(engineId, base + Math.floor(players * ARRIVED_SHARE));
  }

  /**
   * Resolves once every engine sent players reports them (or has left, or drains itself), or
   * after `timeoutMs`; true when they all arrived in time.
   */
  arrived(timeoutMs: number): Promise<boolean> {
    if (this.#expected.size === 0 || this.#done()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        stop();
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      const stop = this.#membership.watch(() => {
        if (this.#done()) finish(true);
      });
    });
  }

  #done(): boolean {
    for (const [engineId, load] of this.#expected) {
      const member = this.#membership.get(engineId);
      if (member !== undefined && member.draining !== true && member.load < load) return false;
    }
    return true;
  }
}
