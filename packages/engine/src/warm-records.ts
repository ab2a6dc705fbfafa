/**
 * The scene threads' side of the warm-up (thread-warmup.ts): once a thread's import of the game
 * settled, it says so on the BroadcastChannel the engine named in the pool's workerData. Shared
 * by both threads: the message is checked where the main thread reads it.
 */
import { BroadcastChannel } from 'node:worker_threads';

/** What a thread posts once its import of the game settled. */
export type WarmMessage = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** The workerData key that names the channel. */
export const WARM_CHANNEL_KEY = 'warmChannel';

export function isWarmMessage(v: unknown): v is WarmMessage {
  if (typeof v !== 'object' || v === null || !('ok' in v)) return false;
  if (v.ok === true) return true;
  return v.ok === false && 'error' in v && typeof v.error === 'string';
}

/** A thread's side: say that the import settled (`error` when it failed). */
export function tellWarm(channelName: string, error?: unknown): void {
  const channel = new BroadcastChannel(channelName);
  const message: WarmMessage = error === undefined ? { ok: true } : { ok: false, error: error instanceof Error ? error.message : String(error) };
  channel.postMessage(message);
  channel.close();
}
