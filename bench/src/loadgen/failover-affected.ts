/**
 * What became of the bots whose engine was killed (engine-kill): how long until their scene
 * resumed and their first move was acknowledged again, and how many acknowledged moves the
 * resume undid.
 */
import type { Bot } from './failover-bot.js';
import type { WindowStats } from './failover-ledger.js';
import { LatencyRecorder, round, type LatencySummary } from '../stats.js';

export interface AffectedResult {
  /** Bots whose scene was on the killed engine. */
  readonly players: number;
  /** Got SceneResumed (and stayed connected) before the window ended. */
  readonly resumed: number;
  /** Their socket closed: lost. */
  readonly closed: number;
  /** Still waiting when the window ended. */
  readonly notResumed: number;
  /** kill → SceneResumed received. */
  readonly resumeMs: LatencySummary;
  /** kill → first tick acknowledging a move after SceneResumed. */
  readonly firstAckMs: LatencySummary;
  /** kill → the last SceneResumed, ms (the end of the `during` window). */
  readonly lastResumeMs: number | null;
  /** Acknowledged moves undone by the resume: last seq acknowledged before the kill − seq of the position the new engine loaded. */
  readonly lostMoves: { readonly players: number; readonly total: number; readonly max: number; readonly p50: number };
  /** Resumed bots whose loaded position matched none of the positions they sent (not judged). */
  readonly unverified: number;
  /** Inputs in flight or sent while resuming, never processed (the gateway drops inputs while the scene has no engine). */
  readonly droppedInputs: number;
  /** Affected bots' input → ack after their scene resumed (the `after` window). */
  readonly after: WindowStats;
}

/**
 * The affected bots' result: `killAt` and `lastResume` (the last SceneResumed of a bot still
 * connected, or null) are wall-clock ms; `droppedInputs` and `after` come from the ledger.
 */
export function affectedResult(affectedBots: readonly Bot[], killAt: number, lastResume: number | null, droppedInputs: number, after: WindowStats): AffectedResult {
  const resume = new LatencyRecorder();
  const firstAck = new LatencyRecorder();
  const lost: number[] = [];
  let unverified = 0;
  for (const b of affectedBots) {
    if (b.closedAt !== null || b.resumedAt === null) continue;
    resume.record(b.resumedAt - killAt);
    if (b.firstAckAt !== null) firstAck.record(b.firstAckAt - killAt);
    if (b.lostMoves === null) unverified++;
    else lost.push(b.lostMoves);
  }
  lost.sort((a, z) => a - z);
  return {
    players: affectedBots.length,
    resumed: resume.count,
    closed: affectedBots.filter((b) => b.closedAt !== null).length,
    notResumed: affectedBots.filter((b) => b.closedAt === null && b.resumedAt === null).length,
    resumeMs: resume.summary(),
    firstAckMs: firstAck.summary(),
    lastResumeMs: lastResume === null ? null : round(lastResume - killAt, 1),
    lostMoves: {
      players: lost.filter((n) => n > 0).length,
      total: lost.reduce((a, n) => a + n, 0),
      max: lost.at(-1) ?? 0,
      p50: lost[Math.floor((lost.length - 1) / 2)] ?? 0,
    },
    unverified,
    droppedInputs,
    after,
  };
}
