/**
 * The start/stop skeleton the bench's server processes share: once `start` resolves, print the
 * `{"ready":true,…}` line the orchestrator waits for; on SIGTERM/SIGINT, a failed start or a
 * call to `shutdown`, run `stop` once and exit (1 when the start or the stop failed).
 */
export interface Lifecycle {
  /** Stop (once) and exit with `code`, or 1 if stopping fails. */
  shutdown(code: number): Promise<void>;
  /** True once shutdown has begun. */
  readonly stopping: boolean;
}

export function serverLifecycle(name: string, start: () => Promise<Record<string, unknown>>, stop: () => Promise<void>): Lifecycle {
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await stop();
    } catch (err) {
      console.error(`${name}: shutdown failed`, err);
      code = 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  start().then(
    (info) => console.log(JSON.stringify({ ready: true, ...info })),
    async (err: unknown) => {
      console.error(`${name}: cannot start`, err);
      await shutdown(1);
    },
  );
  return {
    shutdown,
    get stopping() {
      return stopping;
    },
  };
}
