import type { TimerRecord } from './records.js';

/**
 * Which connection holds each player in its scene (one seat per player: a second connection
 * takes the seat over), and the hand-overs of players who just left: until the scene answers a
 * LEAVE with the player's last data, a rejoin waits, so it loads what was just written.
 */
interface HandOver {
  readonly sid: number;
  readonly sceneId: string;
  /** Resolves with the player's data as the scene handed it over (undefined when it never will). */
  readonly done: Promise<unknown>;
  readonly resolve: (data: unknown) => void;
}

export class PlayerSeats {
  /** playerId → sid of the connection that holds the player. */
  readonly #holders = new Map<string, number>();
  /** playerId → its hand-over still owed by a scene. */
  readonly #handOvers = new Map<string, HandOver>();
  /** sid → playerId of the entries of {@link #handOvers}. */
  readonly #handOverBySid = new Map<number, string>();

  /** Players seated: this engine's load. */
  get size(): number {
    return this.#holders.size;
  }

  holder(playerId: string): number | undefined {
    return this.#holders.get(playerId);
  }

  isSeated(playerId: string): boolean {
    return this.#holders.has(playerId);
  }

  seat(playerId: string, sid: number): void {
    this.#holders.set(playerId, sid);
  }

  /** Free the player's seat if `sid` holds it; whether it did. */
  vacate(playerId: string, sid: number): boolean {
    if (this.#holders.get(playerId) !== sid) return false;
    this.#holders.delete(playerId);
    return true;
  }

  /**
   * `sid` left scene `sceneId`, which owes the player's last data: a rejoin waits for it.
   * Resolves with that data (a travel takes it from here), or undefined when the scene will not
   * hand it over (it crashed, or its save could not be read).
   */
  expectHandOver(playerId: string, sid: number, sceneId: string): Promise<unknown> {
    this.#handOvers.get(playerId)?.resolve(undefined);
    let resolve!: (data: unknown) => void;
    const done = new Promise<unknown>((r) => (resolve = r));
    this.#handOvers.set(playerId, { sid, sceneId, done, resolve });
    this.#handOverBySid.set(sid, playerId);
    return done;
  }

  /** Resolves once the player's last data, if a scene still owes it, is handed over. */
  handedOver(playerId: string): Promise<unknown> | undefined {
    return this.#handOvers.get(playerId)?.done;
  }

  /** Timers a travelling player's scene handed over with its data, by sid: for a target on this engine ({@link takeTimers}). */
  readonly #timers = new Map<number, readonly TimerRecord[]>();

  /** The timers handed over with the data of `sid` (once: they are forgotten), or undefined when none were. */
  takeTimers(sid: number): readonly TimerRecord[] | undefined {
    const timers = this.#timers.get(sid);
    this.#timers.delete(sid);
    return timers;
  }

  /** The scene answered the LEAVE of `sid` with `data` (and, for a travel, the player's `timers`) — or never will: release a rejoin waiting for it. */
  answered(sid: number, data?: unknown, timers?: readonly TimerRecord[]): void {
    const playerId = this.#handOverBySid.get(sid);
    if (playerId === undefined) return;
    if (timers !== undefined) this.#timers.set(sid, timers);
    this.#handOverBySid.delete(sid);
    const handOver = this.#handOvers.get(playerId);
    if (handOver?.sid !== sid) return;
    handOver.resolve(data);
    this.#handOvers.delete(playerId);
  }

  /** Connections (sids) whose scene's last save is to be dropped, with that scene: a newer connection of the player owns its row. */
  readonly #discarded = new Map<number, string>();

  /** Drop the last save scene `sceneId` sends for `sid` (see {@link takeDiscarded}). */
  discardHandOver(sid: number, sceneId: string): void {
    this.#discarded.set(sid, sceneId);
  }

  /** Whether the saves of `sid` are dropped (without forgetting it: the last one asks {@link takeDiscarded}). */
  isDiscarded(sid: number): boolean {
    return this.#discarded.has(sid);
  }

  /** Whether the last save for `sid` is to be dropped (asked once: it is forgotten). */
  takeDiscarded(sid: number): boolean {
    return this.#discarded.delete(sid);
  }

  /** Scene `sceneId` crashed: the hand-overs it owed will not come, nor the saves to drop. */
  sceneLost(sceneId: string): void {
    for (const [sid, playerId] of [...this.#handOverBySid]) {
      if (this.#handOvers.get(playerId)?.sceneId === sceneId) this.answered(sid, undefined);
    }
    for (const [sid, scene] of [...this.#discarded]) if (scene === sceneId) this.#discarded.delete(sid);
  }

  /**
   * Whether anything here still refers to `sid` (a hand-over owed, timers handed over, a save to
   * drop): a new connection must not be given it (Connections, after its ids wrap).
   */
  refersTo(sid: number): boolean {
    return this.#handOverBySid.has(sid) || this.#timers.has(sid) || this.#discarded.has(sid);
  }
}
