/**
 * The demo's leaderboard: metres walked today on the world maps (board `distance-daily`, reset at
 * midnight UTC, the day's top 100 archived). Each map adds up its players' steps and submits
 * them every few seconds and when a player leaves, one `increment` per player, not one per move.
 */
import { CodedError, ErrorCodes, isCodedError } from '@gos/schema';
import type { Scene } from '@gos/engine';

export const WALK_BOARD = 'distance-daily';
const FLUSH_MS = 5000;

/** Per scene: metres walked since the last submit, and the walker's name. */
const pendingByScene = new Map<string, Map<string, { metres: number; name: string }>>();
/** Per scene: the board created (once per scene start; `create` again is a no-op anyway). */
const boardReady = new Map<string, Promise<void>>();

function pending(sceneId: string): Map<string, { metres: number; name: string }> {
  let m = pendingByScene.get(sceneId);
  if (m === undefined) pendingByScene.set(sceneId, (m = new Map<string, { metres: number; name: string }>()));
  return m;
}

/** A player of `scene` walked `metres`. */
export function walked(sceneId: string, playerId: string, name: string, metres: number): void {
  if (!(metres > 0)) return;
  const p = pending(sceneId);
  const had = p.get(playerId);
  if (had === undefined) p.set(playerId, { metres, name });
  else had.metres += metres;
}

function ensureBoard(scene: Scene): Promise<void> {
  let ready = boardReady.get(scene.id);
  if (ready === undefined) {
    ready = scene.leaderboards.create(WALK_BOARD, { policy: 'increment', reset: '0 0 * * *', archiveTop: 100 }).then(() => undefined);
    ready.catch(() => boardReady.delete(scene.id));
    boardReady.set(scene.id, ready);
  }
  return ready;
}

/** Submit what `playerIds` (all, by default) walked since the last time. A failed submit is kept for the next flush. */
export async function flushWalks(scene: Scene, playerIds?: readonly string[]): Promise<void> {
  const p = pendingByScene.get(scene.id);
  if (p === undefined || p.size === 0) return;
  const ids = playerIds ?? [...p.keys()];
  const batch = ids.flatMap((id) => {
    const walk = p.get(id);
    p.delete(id);
    return walk === undefined ? [] : [{ id, ...walk }];
  });
  if (batch.length === 0) return;
  try {
    await ensureBoard(scene);
  } catch (err) {
    keep(scene, batch, err);
    return;
  }
  // Whole metres are submitted; the rest of a metre waits for the next flush.
  const outcomes = await Promise.allSettled(batch.map((w) => scene.leaderboards.submit(WALK_BOARD, w.id, Math.floor(w.metres), { data: { name: w.name } })));
  // Only the failed submits are kept whole for the next flush (the others counted already).
  const failed = batch.filter((_, i) => outcomes[i]?.status === 'rejected');
  for (const [i, w] of batch.entries()) if (outcomes[i]?.status === 'fulfilled') walked(scene.id, w.id, w.name, w.metres - Math.floor(w.metres));
  const first = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed.length > 0) keep(scene, failed, first?.reason);
}

function keep(scene: Scene, walks: ReadonlyArray<{ id: string; name: string; metres: number }>, err: unknown): void {
  if (isCodedError(err) && err.code === ErrorCodes.LB_ERR_NOT_CONFIGURED) return;
  // The board was deleted (an operator's lb delete): created again at the next flush.
  if (isCodedError(err) && err.code === ErrorCodes.LB_ERR_UNKNOWN_BOARD) boardReady.delete(scene.id);
  // Kept for the next flush. (An answer lost after Redis applied it counts twice: metres walked are not currency.)
  for (const w of walks) walked(scene.id, w.id, w.name, w.metres);
  scene.logger.warn({ err, walkers: walks.length }, 'cannot submit walked distances; kept for the next flush');
}

/** Start the scene's flush timer (from onCreate). */
export function startWalkFlush(scene: Scene): void {
  scene.setInterval(() => void flushWalks(scene), FLUSH_MS);
}

export function forgetWalks(sceneId: string): void {
  pendingByScene.delete(sceneId);
  boardReady.delete(sceneId);
}

interface Row {
  rank: number;
  playerId: string;
  name: string;
  score: number;
}

/** The `leaderboard` route: the top 10, or the ten around the player, and the player's own place. */
export async function walkBoard(scene: Scene, playerId: string, around: boolean): Promise<{ board: string; entries: Row[]; total: number; myRank: number; myScore: number }> {
  try {
    await flushWalks(scene, [playerId]);
    const [list, total, me] = await Promise.all([
      around ? scene.leaderboards.around(WALK_BOARD, playerId, { before: 4, after: 5 }) : scene.leaderboards.page(WALK_BOARD, { limit: 10 }).then((p) => p.entries),
      scene.leaderboards.count(WALK_BOARD),
      scene.leaderboards.get(WALK_BOARD, playerId),
    ]);
    const entries = list.map((e) => ({ rank: e.rank, playerId: e.memberId, name: nameOf(e.data, e.memberId), score: e.score }));
    return { board: WALK_BOARD, entries, total, myRank: me?.rank ?? 0, myScore: me?.score ?? 0 };
  } catch (err) {
    // Nobody walked yet today on this cluster: the board is created with the first submit.
    if (isCodedError(err) && err.code === ErrorCodes.LB_ERR_UNKNOWN_BOARD) return { board: WALK_BOARD, entries: [], total: 0, myRank: 0, myScore: 0 };
    if (isCodedError(err)) throw err;
    throw new CodedError(ErrorCodes.ENG_ERR_HANDLER_FAILED, 'the leaderboard cannot be read', { cause: err });
  }
}

function nameOf(data: unknown, fallback: string): string {
  if (typeof data === 'object' && data !== null && 'name' in data && typeof data.name === 'string') return data.name;
  return fallback;
}
