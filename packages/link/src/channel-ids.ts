/** The largest id handed out; the next one after it is 1 again (0 is never an id). */
export const MAX_CHANNEL_ID = 0xfffffff0;

/**
 * Ids for connections on a link's channels (a gateway's connection ids, an engine's sids): 1, 2,
 * … up to {@link MAX_CHANNEL_ID}, then 1 again, skipping any id still in use. A long-lived
 * process with many short connections wraps (4.3 billion opens: 50 days at 1,000 a second), and
 * an id given to two live connections would send one player's frames to another.
 */
export class ChannelIds {
  #next: number;

  /** `first`: the first id to try (tests start near the wrap). */
  constructor(first = 1) {
    if (!Number.isInteger(first) || first < 1 || first > MAX_CHANNEL_ID) throw new RangeError(`first channel id must be an integer in 1..${MAX_CHANNEL_ID}, got ${first}`);
    this.#next = first;
  }

  /**
   * The next id that `inUse` says is free. Past {@link MAX_CHANNEL_ID} ids all in use it throws
   * (never in practice: each is a live connection).
   */
  take(inUse: (id: number) => boolean): number {
    for (let tries = 0; tries < MAX_CHANNEL_ID; tries++) {
      const id = this.#next;
      this.#next = id >= MAX_CHANNEL_ID ? 1 : id + 1;
      if (!inUse(id)) return id;
    }
    throw new RangeError('every channel id is in use');
  }
}
