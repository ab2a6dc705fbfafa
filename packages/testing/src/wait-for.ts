/**
 * The one way the framework's tests wait: on a condition, never on a fixed sleep or a polling
 * loop of their own. A test that waits states what it waits for, and a timeout says so.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitForOptions {
  /** Give up after this long. @default 5000 */
  readonly timeoutMs?: number;
  /** What is awaited, for the timeout's error: "the engine to register". @default 'the condition' */
  readonly message?: string;
  /** Time between two checks. @default 10 */
  readonly intervalMs?: number;
}

/**
 * Resolve with the condition's first truthy result, checking it now and then every
 * `intervalMs`. A condition that throws counts as not met yet; if it never holds, the timeout's
 * error names `message`, the time waited, and the last error the condition threw (as `cause`).
 */
export async function waitFor<T>(condition: () => T | Promise<T>, options: WaitForOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined && value !== null && value !== false && value !== 0 && value !== '') return value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() >= deadline) {
      const why = lastError === undefined ? '' : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.message ?? 'the condition'}${why}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await delay(intervalMs);
  }
}
