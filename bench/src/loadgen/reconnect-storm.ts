/**
 * The reconnect storm (scenario reconnect-storm): every connected client drops its connection at
 * once and resumes its session.
 */
import { nowMs, type ClientConn } from './driver.js';
import { round, type LatencyRecorder } from '../stats.js';
import type { LoadOptions, StormResult } from './run.js';

/** What the storm reads and marks on a client. */
export interface StormClient {
  readonly index: number;
  readonly conn: ClientConn | null;
  closed: boolean;
}

/**
 * The storm: every connected client drops and reconnects, all started in one go. Each client's
 * latency runs from its own drop to being back in its scene; the result's `seconds` from the
 * first drop to the last return. Clients not back after `timeoutSeconds` are left out.
 */
export async function reconnectAll(
  clients: readonly StormClient[],
  timeoutSeconds: number,
  latency: LatencyRecorder,
  noteFailure: (what: string) => void,
  onPhase: LoadOptions['onPhase'],
): Promise<StormResult> {
  const live = clients.filter((c) => !c.closed && c.conn !== null);
  let reconnected = 0;
  let lastBack = 0;
  const t0 = nowMs();
  const all = live.map(async (c) => {
    const dropAt = nowMs();
    try {
      await c.conn!.reconnect();
    } catch (err) {
      c.closed = true;
      noteFailure(`client ${c.index}: reconnect: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    if (c.closed) return; // came back after the deadline
    lastBack = nowMs();
    latency.record(lastBack - dropAt);
    reconnected++;
  });
  const progress = setInterval(() => onPhase?.('steady', { secondsLeft: Math.max(0, timeoutSeconds - (nowMs() - t0) / 1000), connected: reconnected }), 1000);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutSeconds * 1000);
  });
  const timedOut = await Promise.race([Promise.all(all).then(() => false), deadline]);
  clearTimeout(timer);
  clearInterval(progress);
  if (timedOut) {
    const out = live.length - reconnected;
    noteFailure(`${out} clients not back within ${timeoutSeconds} s`);
    // Late arrivals are neither counted nor measured.
    for (const c of live) c.closed = true;
  }
  return { dropped: live.length, reconnected, seconds: round(((timedOut ? nowMs() : lastBack || t0) - t0) / 1000, 3) };
}
