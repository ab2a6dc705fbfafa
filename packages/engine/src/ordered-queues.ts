/**
 * Work delivered in order per key (a caller and its target): each task starts once the one
 * before it under the same key has settled. At most `max` tasks wait per key; past that
 * {@link OrderedQueues.push} refuses. A key with nothing waiting is forgotten.
 */
export class OrderedQueues {
  readonly #max: number;
  readonly #onError: (err: unknown, key: string) => void;
  readonly #queues = new Map<string, { tail: Promise<void>; length: number }>();

  /** `onError`: a task that rejects (tasks should not) is reported there and the queue goes on. */
  constructor(max: number, onError: (err: unknown, key: string) => void) {
    this.#max = max;
    this.#onError = onError;
  }

  /** Keys with tasks waiting or running. */
  get size(): number {
    return this.#queues.size;
  }

  /** Queue `task` behind the others of `key`; false (nothing queued) when `max` already wait there. */
  push(key: string, task: () => Promise<void>): boolean {
    const queue = this.#queues.get(key) ?? { tail: Promise.resolve(), length: 0 };
    if (queue.length >= this.#max) return false;
    queue.length++;
    queue.tail = queue.tail
      .then(task)
      .catch((err: unknown) => this.#onError(err, key))
      .then(() => {
        queue.length--;
        if (queue.length === 0 && this.#queues.get(key) === queue) this.#queues.delete(key);
      });
    this.#queues.set(key, queue);
    return true;
  }
}
