/**
 * Revision at which a key was last deleted, and when: a late watch event for an older put must
 * not bring it back. Forgotten after `ttlMs` (swept at most once per TTL), so the view does not
 * grow with every key ever deleted (election keys, requests).
 */
export class Tombstones {
  readonly #entries = new Map<string, { readonly revision: number; readonly at: number }>();
  readonly #ttlMs: number;
  readonly #now: () => number;
  #nextSweep = 0;

  /** `ttlMs` is validated by the coordinator (`tombstoneTtlMs`); `now` ages the entries. */
  constructor(ttlMs: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Whether a change of `tomb` at `revision` may enter the view: a delete always does, and is
   * remembered; a put only when newer than the last delete, which is then forgotten.
   */
  admit(tomb: string, revision: number, deleted: boolean): boolean {
    if (deleted) {
      this.#bury(tomb, revision);
      return true;
    }
    if (revision <= this.#buriedAt(tomb)) return false;
    this.#entries.delete(tomb);
    return true;
  }

  /** Remember that `tomb` was deleted at `revision`; forget tombstones older than the TTL. */
  #bury(tomb: string, revision: number): void {
    const now = this.#now();
    this.#entries.set(tomb, { revision: Math.max(revision, this.#buriedAt(tomb)), at: now });
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + this.#ttlMs;
    for (const [key, t] of this.#entries) if (now - t.at > this.#ttlMs) this.#entries.delete(key);
  }

  /** The revision at which `tomb` was last deleted, or 0. */
  #buriedAt(tomb: string): number {
    return this.#entries.get(tomb)?.revision ?? 0;
  }
}
