import { CodedError, ErrorCodes } from '@gos/schema';
import type { MemberInfo } from './types.js';

/** Weight of one placed scene in an engine's load, so an empty cluster spreads new scenes. */
const SCENE_WEIGHT = 10;

/**
 * GameMgr's placement policy: among the engines under their CCU cap (`load < capacity`), the
 * one whose load (players plus a weight per scene already placed there) is smallest relative
 * to its capacity, plus its thread utilisation (0–1): of two engines with as many players, the
 * one whose scenes cost less CPU takes the new scene. Engines stopping (`draining`) take none.
 * Throws `CRD_ERR_NO_ENGINE` when no engine is alive (or all are stopping) or every one is at its cap.
 */
export function pickLeastLoadedEngine(engines: readonly MemberInfo[], scenesOn: (engineId: string) => number): MemberInfo {
  let best: MemberInfo | undefined;
  let bestScore = Infinity;
  for (const engine of engines) {
    if (engine.load >= engine.capacity || engine.draining === true) continue;
    const score = (engine.load + scenesOn(engine.id) * SCENE_WEIGHT) / Math.max(1, engine.capacity) + (engine.utilisation ?? 0);
    if (score < bestScore) {
      best = engine;
      bestScore = score;
    }
  }
  if (best !== undefined) return best;
  if (engines.every((e) => e.draining === true)) throw new CodedError(ErrorCodes.CRD_ERR_NO_ENGINE, 'no engine is alive to host the scene (none, or all stopping)');
  throw new CodedError(ErrorCodes.CRD_ERR_NO_ENGINE, `every engine (${engines.length}) is at its CCU cap`);
}

/** Whether a gateway can take one more player: under its (soft) capacity. */
export function hasRoom(gateway: MemberInfo): boolean {
  return gateway.load < gateway.capacity;
}

/**
 * AgentMgr's gateway order for a login: gateways under their capacity first, least loaded
 * (relative to capacity) first, `self` first among equals; gateways at or over capacity last.
 * `preferred` (the gateway the player's group already uses) comes first when it is among
 * `gateways` and under its capacity; otherwise it is ignored. The first is where the player
 * should connect; the rest are where its client goes if that one is lost. Empty when
 * `gateways` is.
 */
export function rankGateways(gateways: readonly MemberInfo[], self?: string, preferred?: string): MemberInfo[] {
  const ratio = (m: MemberInfo): number => m.load / Math.max(1, m.capacity);
  const ranked = [...gateways].sort((a, b) => {
    const fullA = hasRoom(a) ? 0 : 1;
    const fullB = hasRoom(b) ? 0 : 1;
    return fullA - fullB || ratio(a) - ratio(b) || (a.id === self ? -1 : b.id === self ? 1 : 0) || a.id.localeCompare(b.id);
  });
  const i = preferred === undefined ? -1 : ranked.findIndex((m) => m.id === preferred);
  if (i > 0 && hasRoom(ranked[i]!)) ranked.unshift(...ranked.splice(i, 1));
  return ranked;
}
