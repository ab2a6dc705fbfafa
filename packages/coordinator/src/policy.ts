import { CodedError, ErrorCodes } from '@gos/schema';
import type { MemberInfo } from './types.js';

/** Weight of one placed scene in an engine's load, so an empty cluster spreads new scenes. */
const SCENE_WEIGHT = 10;

/**
 * GameMgr's placement policy: among the engines under their CCU cap (`load < capacity`), the
 * one whose load (players plus a weight per scene already placed there) is smallest relative
 * to its capacity. Throws `CRD_ERR_NO_ENGINE` when no engine is alive or every one is at its cap.
 */
export function pickLeastLoadedEngine(engines: readonly MemberInfo[], scenesOn: (engineId: string) => number): MemberInfo {
  let best: MemberInfo | undefined;
  let bestScore = Infinity;
  for (const engine of engines) {
    if (engine.load >= engine.capacity) continue;
    const score = (engine.load + scenesOn(engine.id) * SCENE_WEIGHT) / Math.max(1, engine.capacity);
    if (score < bestScore) {
      best = engine;
      bestScore = score;
    }
  }
  if (best !== undefined) return best;
  if (engines.length === 0) throw new CodedError(ErrorCodes.CRD_ERR_NO_ENGINE, 'no engine is alive to host the scene');
  throw new CodedError(ErrorCodes.CRD_ERR_NO_ENGINE, `every engine (${engines.length}) is at its CCU cap`);
}

/**
 * AgentMgr's gateway order for a login: gateways under their capacity first, least loaded
 * (relative to capacity) first, `self` first among equals; gateways at or over capacity last.
 * The first is where the player should connect; the rest are where its client goes if that one
 * is lost. Empty when `gateways` is.
 */
export function rankGateways(gateways: readonly MemberInfo[], self?: string): MemberInfo[] {
  const ratio = (m: MemberInfo): number => m.load / Math.max(1, m.capacity);
  return [...gateways].sort((a, b) => {
    const fullA = a.load >= a.capacity ? 1 : 0;
    const fullB = b.load >= b.capacity ? 1 : 0;
    return fullA - fullB || ratio(a) - ratio(b) || (a.id === self ? -1 : b.id === self ? 1 : 0) || a.id.localeCompare(b.id);
  });
}
