/** A typed listener set, shared by the in-memory and the etcd coordinators. */
type Listener<E> = (event: E) => void;

/** Listeners of one event; each emit calls a copy, so a listener may unsubscribe while called. */
export class Emitter<E> {
  readonly #listeners = new Set<Listener<E>>();

  on(listener: Listener<E>): () => boolean {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: E): void {
    for (const l of [...this.#listeners]) l(event);
  }

  clear(): void {
    this.#listeners.clear();
  }
}
