/**
 * Concurrent authoritative reads of one key, batched: a read asked for while another of the same
 * key is in flight waits for the next one, which starts as soon as the current one ends and
 * answers every caller that joined it. Each caller still gets a read that started after its own
 * call (a write it already knows of is in the answer), and a crowd asking at once costs two
 * round trips instead of one each: the players of a scene that moved live all asking where it
 * is now were hundreds of etcd reads at once.
 */
export class ReadBatches<K, V> {
  readonly #read: (key: K) => Promise<V>;
  readonly #inFlight = new Map<K, { readonly done: Promise<V>; next: Promise<V> | null }>();

  constructor(read: (key: K) => Promise<V>) {
    this.#read = read;
  }

  read(key: K): Promise<V> {
    const current = this.#inFlight.get(key);
    if (current === undefined) return this.#start(key);
    // Joins the read after the current one (started once it ends, whatever its outcome).
    current.next ??= current.done.then(
      () => this.#start(key),
      () => this.#start(key),
    );
    return current.next;
  }

  #start(key: K): Promise<V> {
    const entry: { done: Promise<V>; next: Promise<V> | null } = { done: this.#read(key), next: null };
    this.#inFlight.set(key, entry);
    const settle = (): void => {
      if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
    };
    entry.done.then(settle, settle);
    return entry.done;
  }
}
