/**
 * The start/stop skeleton the bench's server processes share: once `start` resolves, print the
 * `{"ready":true,…}` line the orchestrator waits for; on SIGTERM/SIGINT, a failed start or a
 * call to `shutdown`, run `stop` once and exit (1 when the start or the stop failed).
 *
 * The memory probe (the soak scenario): on SIGUSR2, a process started with `--expose-gc` runs
 * a full collection in every thread (the engine's scene threads answer on its collection
 * channel) and prints `{"memory":{…}}`: process.memoryUsage() after it and the scene threads'
 * heaps, bytes, and whether collections ran.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { COLLECT_GARBAGE_CHANNEL, isCollectedHeap } from '@gos/engine';

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
  process.on('SIGUSR2', () => void memoryAfterCollection().then((memory) => console.log(JSON.stringify({ memory }))));
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

export interface MemoryProbe {
  readonly rssBytes: number;
  /** The main thread's V8 heap in use. */
  readonly heapUsedBytes: number;
  /** The scene threads' V8 heaps in use, summed, and how many answered. */
  readonly workersHeapUsedBytes: number;
  /** The scene threads' V8 heaps committed, summed. */
  readonly workersHeapTotalBytes: number;
  readonly workers: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
  /** False when the process was not started with --expose-gc: the figures include garbage. */
  readonly collected: boolean;
}

/** How long the scene threads have to answer a collection request. */
const WORKER_ANSWER_MS = 500;

/**
 * Full collections in the scene threads, then here (twice: the first may only queue
 * finalisers), then the process's memory.
 */
async function memoryAfterCollection(): Promise<MemoryProbe> {
  const gc = (globalThis as { gc?: () => void }).gc;
  let workers = 0;
  let workersHeapUsedBytes = 0;
  let workersHeapTotalBytes = 0;
  if (gc !== undefined) {
    const channel = new BroadcastChannel(COLLECT_GARBAGE_CHANNEL);
    channel.onmessage = (event: MessageEvent) => {
      if (!isCollectedHeap(event.data)) return;
      workers++;
      workersHeapUsedBytes += event.data.heapUsedBytes;
      workersHeapTotalBytes += event.data.heapTotalBytes;
    };
    channel.postMessage('collect');
    await new Promise((resolve) => setTimeout(resolve, WORKER_ANSWER_MS));
    channel.close();
  }
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    workersHeapUsedBytes,
    workersHeapTotalBytes,
    workers,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
    collected: gc !== undefined,
  };
}
