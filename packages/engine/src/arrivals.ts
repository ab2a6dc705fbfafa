/**
 * A draining engine paces its crowded waves by their arrival: after a wave of live moves that
 * sent at least PACED_WAVE_PLAYERS players, it waits until every engine it moved scenes to
 * reports the players it sent there (the load that engine publishes in the membership), then
 * moves the next wave; after the last wave it waits the same way before it leaves. The wait ends
 * early when a target leaves or drains itself, and at the latest after ARRIVAL_TIMEOUT_MS or at
 * the drain's deadline, whichever comes first.
 *
 * Taking a crowded scene in is the target's busiest moment (claiming the rows, starting the
 * scene, every player's join); a second move that froze meanwhile would wait behind it, and its
 * players with it. Measured with `npm run bench -- engine-drain` (bench/RESULTS.md). A smaller
 * wave is taken in within a tick or so, and is not waited for: an engine of many small scenes
 * would spend its drain's time on the load's publishing delay (up to 250 ms a wave).
 *
 * The signal is the target's whole load: players logging in there can end a wait early (the
 * pacing is lost, nothing else), players leaving it can make it run to its timeout.
 */
import type { Membership } from '@gos/coordinator';

/** How long a wave waits for its players to be reported on their engines, at most. */
export const ARRIVAL_TIMEOUT_MS = 3000;
/** A wave that sent fewer players than this is not waited for. */
export const PACED_WAVE_PLAYERS = 100;
/**
 * The share of the players sent that an engine must report before the wave counts as arrived
 * (rounded down): a few may close their sockets during the move, and the wait must not run to
 * its timeout for them.
 */
export const ARRIVED_SHARE = 0.9;

/** Players sent to each engine by a wave, and that engine's load when the wave started. */
export class WaveArrivals {
  readonly #membership: Pick<Membership, 'get' | 'watch'>;
  /** Engine id → the players the wave sent there. */
  readonly #sent = new Map<string, number>();
  readonly #before: ReadonlyMap<string, number>;

  /** Taken before the wave's moves start: every engine's load then. */
  constructor(membership: Pick<Membership, 'get' | 'watch' | 'list'>) {
    this.#membership = membership;
    this.#before = new Map(membership.list('engine').map((m) => [m.id, m.load]));
  }

  /** A scene of the wave moved to `engineId` with `players`. */
  sent(engineId: string, players: number): void {
    if (players > 0) this.#sent.set(engineId, (this.#sent.get(engineId) ?? 0) + players);
  }

  /** Whether the wave sent enough players to be waited for. */
  get paced(): boolean {
    let players = 0;
    for (const n of this.#sent.values()) players += n;
    return players >= PACED_WAVE_PLAYERS;
  }

  /**
   * Resolves once every engine sent players reports them (or has left, or drains itself), or
   * after `timeoutMs` (none left: at once); true when they all arrived in time.
   */
  arrived(timeoutMs: number): Promise<boolean> {
    if (this.#done()) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const finish = (ok: boolean): void => {
        clearTimeout(timer);
        stop();
        resolve(ok);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const stop = this.#membership.watch(() => {
        if (this.#done()) finish(true);
      });
    });
  }

  #done(): boolean {
    for (const [engineId, players] of this.#sent) {
      const member = this.#membership.get(engineId);
      const load = (this.#before.get(engineId) ?? 0) + Math.floor(players * ARRIVED_SHARE);
      if (member !== undefined && member.draining !== true && member.load < load) return false;
    }
    return true;
  }
}
