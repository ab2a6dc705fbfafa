/**
 * Full garbage collections on request, in every scene thread, for memory measurements (the
 * bench's soak scenario): a `collect` message on {@link COLLECT_GARBAGE_CHANNEL} makes each
 * worker thread run a full collection and answer with the heap it still uses. Only in a process
 * started with `--expose-gc` (worker threads inherit it); otherwise nothing listens.
 */
import { BroadcastChannel, resourceLimits, threadId } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';

export const COLLECT_GARBAGE_CHANNEL = 'gos:collect-garbage';

/** What a thread answers after its collection. */
export interface CollectedHeap {
  readonly type: 'collected';
  /** The answering thread's `threadId`. */
  readonly threadId: number;
  readonly heapUsedBytes: number;
  /** The thread's V8 heap committed (used or not), bytes. */
  readonly heapTotalBytes: number;
  /** The thread's young generation limit, MB (`workerYoungGenerationMb`; V8's own is 48). */
  readonly youngGenerationLimitMb: number;
}

export function isCollectedHeap(value: unknown): value is CollectedHeap {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v['type'] === 'collected' && typeof v['threadId'] === 'number' && typeof v['heapUsedBytes'] === 'number' && typeof v['heapTotalBytes'] === 'number' && typeof v['youngGenerationLimitMb'] === 'number';
}

/** In a worker thread: answer collection requests, when collections can be forced. */
export function answerCollections(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  const channel = new BroadcastChannel(COLLECT_GARBAGE_CHANNEL);
  channel.onmessage = (event: MessageEvent) => {
    if (event.data !== 'collect') return;
    gc();
    const heap = getHeapStatistics();
    const answer: CollectedHeap = {
      type: 'collected',
      threadId,
      heapUsedBytes: heap.used_heap_size,
      heapTotalBytes: heap.total_heap_size,
      youngGenerationLimitMb: resourceLimits.maxYoungGenerationSizeMb ?? 0,
    };
    channel.postMessage(answer);
  };
  // A listening channel must not keep the thread alive.
  channel.unref();
}
