/**
 * Reaching etcd, MySQL and Redis when a role starts: log where, retry with back-off until the
 * start timeout (`cluster.startTimeoutMs`), then fail with the backend's error code naming the
 * URL. A wrong or unreachable URL must end the process with a reason, not hang it in silence.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CodedError, isCodedError, type ErrorCode, type Logger } from '@gos/schema';

/** A client of a backend: a fresh one per attempt, closed again when its start fails. */
export interface Connectable {
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectOptions<T extends Connectable> {
  /** `etcd`, `MySQL`, `Redis`: for the log and the error. */
  readonly what: string;
  /** Where (several etcd endpoints): named in the log and the error with passwords masked. */
  readonly urls: readonly string[];
  /** The code the client's `start()` raises when the backend cannot be reached: such a failure is retried, and the final error carries it. Any other failure ends the attempts at once. */
  readonly code: ErrorCode;
  readonly open: () => T;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Aborted when the process is told to stop while it is still connecting. */
  readonly signal?: AbortSignal;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/** What an attempt that outlived the start timeout fails with. */
class NoAnswer extends Error {}

/**
 * Open and start a client, retrying with doubling back-off (250 ms up to 5 s) while the backend
 * cannot be reached.
 * @throws CodedError `o.code` naming the URL when `o.timeoutMs` passes (an attempt still waiting
 *   is abandoned) or the next retry would start after it; any other error of `start()` as it
 *   was raised; the abort reason when `o.signal` is aborted.
 */
export async function connect<T extends Connectable>(o: ConnectOptions<T>): Promise<T> {
  const startedAt = Date.now();
  const deadline = startedAt + o.timeoutMs;
  const url = o.urls.map(maskUrl).join(', ');
  // A driver may echo the URL in its messages (gRPC's name resolution does): never its password.
  const passwords = o.urls.flatMap(passwordsOf);
  const scrub = (text: string): string => passwords.reduce((t, p) => t.split(p).join('***'), text);
  o.logger.info({ url, startTimeoutMs: o.timeoutMs }, `connecting to ${o.what} at ${url}`);
  let delayMs = FIRST_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    o.signal?.throwIfAborted();
    const client = o.open();
    let failure: unknown;
    try {
      await settleWithin(client.start(), deadline - Date.now(), o.signal);
      if (attempt > 1) o.logger.info({ url, attempts: attempt }, `connected to ${o.what} at ${url}`);
      return client;
    } catch (err) {
      failure = err;
    }
    const noAnswer = failure instanceof NoAnswer;
    // A start still waiting may be on a connect timeout of its own: closing need not wait for it.
    if (noAnswer || o.signal?.aborted === true) void client.close().catch(() => {});
    else await client.close().catch(() => {});
    o.signal?.throwIfAborted();
    if (!noAnswer && !(isCodedError(failure) && failure.code === o.code)) throw failure;
    const reason = noAnswer ? 'no answer' : scrub(rootMessage(failure));
    if (noAnswer || deadline - Date.now() <= delayMs) {
      const tried = `${attempt} attempt${attempt === 1 ? '' : 's'} in ${seconds(Date.now() - startedAt)} s; start timeout ${seconds(o.timeoutMs)} s`;
      // The driver's error is left out when it might carry a password (the reason has it, scrubbed).
      const cause = noAnswer || passwords.length > 0 ? {} : { cause: failure };
      throw new CodedError(o.code, `cannot reach ${o.what} at ${url}: ${reason} (${tried})`, cause);
    }
    o.logger.warn({ url, attempt, retryInMs: delayMs }, `cannot reach ${o.what} at ${url} (${reason}); retrying in ${delayMs} ms`);
    // Aborted: the next turn's check throws the reason.
    await sleep(delayMs, undefined, o.signal === undefined ? {} : { signal: o.signal }).catch(() => {});
    delayMs = Math.min(delayMs * 2, MAX_RETRY_MS);
  }
}

/** `url` with its password replaced by `***` (unchanged when it has none or is not a URL). */
export function maskUrl(url: string): string {
  const parsed = parseUrl(url);
  if (parsed === null || parsed.password === '') return url;
  parsed.password = '***';
  return parsed.href;
}

/** The password of `url` as written in it and decoded (none when it has none). */
function passwordsOf(url: string): string[] {
  const written = parseUrl(url)?.password ?? '';
  if (written === '') return [];
  let decoded = written;
  try {
    decoded = decodeURIComponent(written);
  } catch {
    // not valid percent-encoding: only the written form can appear
  }
  return decoded === written ? [written] : [written, decoded];
}

function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

const seconds = (ms: number): string => String(Math.round(ms / 100) / 10);

/** The message of the innermost cause: the driver's own words (`connect ECONNREFUSED 127.0.0.1:6379`). */
function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message.trim() : String(e);
}

/** `p`'s outcome, or a rejection with {@link NoAnswer} after `ms`; aborted, any rejection (the caller checks the signal). */
function settleWithin(p: Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => finish(() => reject(new Error('aborted')));
    const timer = setTimeout(() => finish(() => reject(new NoAnswer())), Math.max(0, ms));
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    if (signal?.aborted === true) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => finish(resolve),
      (err: unknown) => finish(() => reject(err instanceof Error ? err : new Error(String(err)))),
    );
  });
}
