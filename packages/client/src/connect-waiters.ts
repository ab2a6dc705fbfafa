interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** `connect()` calls waiting for the next accepted connection, or for the failure that ends the wait. */
export class ConnectWaiters {
  #waiters: Waiter[] = [];

  wait(): Promise<void> {
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  resolveAll(): void {
    for (const w of this.#take()) w.resolve();
  }

  rejectAll(err: Error): void {
    for (const w of this.#take()) w.reject(err);
  }

  #take(): Waiter[] {
    const waiters = this.#waiters;
    this.#waiters = [];
    return waiters;
  }
}
