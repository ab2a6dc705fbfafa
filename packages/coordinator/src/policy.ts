import { CodedError, ErrorCodes } from '@gos/schema';
import type { MemberInfo } from './types.js';

/** Weight of one placed scene in an engine's load, so an empty cluster spreads new scenes. */
const SCENE_WEIGHT = 10;

/**
 * Thread utilisation under this counts as none when placing: between mostly idle engines it is
 * noise (a few hundredths either way) that would outweigh the scenes already placed, and every
 * new scene would go to whichever engine was a little quieter that second.
 */
export const UTILISATION_FLOOR = 0.25;

/**
 * GameMgr's placement policy: among the engines under their CCU cap (`load < capacity`), the
 * one whose load (players plus a weight per scene already placed there) is smallest relative
 * to its capacity, plus its thread utilisation (0–1) once it is {@link UTILISATION_FLOOR} or more:
 * of two engines with as many players, the one whose scenes cost clearly less CPU takes the new scene. Engines stopping (`draining`) take none.
 * Throws `CRD_ERR_NO_ENGINE` when no engine is alive (or all are stopping) or every one is at its cap.
 */
export function pickLeastLoadedEngine(engines: readonly MemberInfo[], scenesOn: (engineId: string) => number): MemberInfo {
  let best: MemberInfo | undefined;
  let bestScore = Infinity;
  for (const engine of engines) {
    if (engine.load >= engine.capacity || engine.draining === true) continue;
    const utilisation = engine.utilisation ?? 0;
    const score = (engine.load + scenesOn(engine.id) * SCENE_WEIGHT) / Math.max(1, engine.capacity) + (utilisation >= UTILISATION_FLOOR ? utilisation : 0);
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

export interface RebalanceOptions {
  /** Engines within this fraction of the mean load (players against capacity, or thread utilisation) count as balanced. */
  readonly tolerance: number;
  /** Fewer players than this to move between the busiest and the idlest engine to even them out: left alone. */
  readonly minPlayers: number;
  /** Whether a scene may move now (not moved a moment ago, not moving). */
  readonly movable: (sceneId: string) => boolean;
}

/** One move the leader asks for: `players` of scene `sceneId` from engine `from` to `to`. */
export interface PlannedMove {
  readonly sceneId: string;
  readonly from: string;
  readonly to: string;
  readonly players: number;
}

/**
 * The busiest and the idlest of `members` taking load (not draining, capacity above 0) by
 * `ratio`, when the busiest is more than `tolerance` above their mean or the idlest that much
 * below it; null when they are even enough, or fewer than two take load.
 */
function unevenPair(members: readonly MemberInfo[], ratio: (m: MemberInfo) => number, tolerance: number): { readonly hot: MemberInfo; readonly cold: MemberInfo } | null {
  const live = members.filter((m) => m.draining !== true && m.capacity > 0);
  if (live.length < 2) return null;
  const mean = live.reduce((sum, m) => sum + ratio(m), 0) / live.length;
  let hot = live[0]!;
  let cold = live[0]!;
  for (const m of live) {
    if (ratio(m) > ratio(hot)) hot = m;
    if (ratio(m) < ratio(cold)) cold = m;
  }
  if (hot === cold) return null;
  if (ratio(hot) <= mean * (1 + tolerance) && ratio(cold) >= mean * (1 - tolerance)) return null;
  return { hot, cold };
}

/** A move by thread time must lower the busiest engine's load by this much at least (noise otherwise). */
export const MIN_THREAD_GAIN = 0.05;

/**
 * The rebalancing policy. An engine's load is the larger of its players against its capacity
 * and its thread utilisation (once it is {@link UTILISATION_FLOOR} or more): whichever it runs
 * out of first. When the busiest engine is more than `tolerance` above the mean load, or the
 * idlest more than `tolerance` below it, move one scene of the busiest to the idlest:
 * - when players make both engines' loads, the scene with the most players that does not
 *   overshoot (after the move the busiest is still at least as loaded, relative to capacity, as
 *   the idlest), and only when evening them out means moving `minPlayers` or more;
 * - when thread time makes either one's, the scene whose move lowers the busiest most without
 *   overshooting, counting both its players and its thread time (`sceneCosts`, the thread time
 *   of its ticks; a scene is assumed to cost the idlest as much), and only when it lowers it by
 *   {@link MIN_THREAD_GAIN} or more.
 * Never overshooting is the hysteresis: the gap only shrinks, so two engines cannot pass a scene
 * back and forth. Null when balanced, when no scene fits, or with fewer than two engines taking
 * scenes.
 */
export function planRebalance(engines: readonly MemberInfo[], o: RebalanceOptions): PlannedMove | null {
  const busy = (utilisation: number): number => (utilisation >= UTILISATION_FLOOR ? utilisation : 0);
  const pair = unevenPair(engines, (e) => Math.max(e.load / e.capacity, busy(e.utilisation ?? 0)), o.tolerance);
  if (pair === null) return null;
  const { hot, cold } = pair;
  const byThreads = busy(hot.utilisation ?? 0) > hot.load / hot.capacity || busy(cold.utilisation ?? 0) > cold.load / cold.capacity;
  return byThreads ? planByThreads(hot, cold, o) : planByPlayers(hot, cold, o);
}

function planByPlayers(hot: MemberInfo, cold: MemberInfo, o: RebalanceOptions): PlannedMove | null {
  // Players that, moved from hot to cold, would leave both at the same ratio.
  const even = (hot.load * cold.capacity - cold.load * hot.capacity) / (hot.capacity + cold.capacity);
  if (even < o.minPlayers) return null;
  let best: PlannedMove | null = null;
  for (const [sceneId, players] of Object.entries(hot.sceneLoads ?? {})) {
    if (players <= 0 || players > even || cold.load + players > cold.capacity || !o.movable(sceneId)) continue;
    if (best === null || players > best.players) best = { sceneId, from: hot.id, to: cold.id, players };
  }
  return best;
}

function planByThreads(hot: MemberInfo, cold: MemberInfo, o: RebalanceOptions): PlannedMove | null {
  // Before and after a move, on the raw figures: the floor decides whether threads are busy
  // enough to rebalance by, not how much a move gains (0.27 → 0.24 gains 0.03, not 0.27).
  const loadOf = (players: number, capacity: number, utilisation: number): number => Math.max(players / capacity, utilisation);
  const hotNow = loadOf(hot.load, hot.capacity, hot.utilisation ?? 0);
  let best: { move: PlannedMove; after: number } | null = null;
  for (const sceneId of new Set([...Object.keys(hot.sceneLoads ?? {}), ...Object.keys(hot.sceneCosts ?? {})])) {
    const players = hot.sceneLoads?.[sceneId] ?? 0;
    const cost = Math.max(0, hot.sceneCosts?.[sceneId] ?? 0);
    if (cold.load + players > cold.capacity || !o.movable(sceneId)) continue;
    const hotAfter = loadOf(hot.load - players, hot.capacity, (hot.utilisation ?? 0) - cost / Math.max(1, hot.threads ?? 1));
    const coldAfter = loadOf(cold.load + players, cold.capacity, (cold.utilisation ?? 0) + cost / Math.max(1, cold.threads ?? 1));
    if (coldAfter > hotAfter || hotNow - hotAfter < MIN_THREAD_GAIN - 1e-9) continue;
    if (best === null || hotAfter < best.after) best = { move: { sceneId, from: hot.id, to: cold.id, players }, after: hotAfter };
  }
  return best?.move ?? null;
}

/** One share the leader asks for: `count` clients of gateway `from` to move to gateway `to`. */
export interface PlannedShare {
  readonly from: string;
  readonly to: string;
  readonly count: number;
}

/**
 * The gateways' rebalancing policy, as {@link planRebalance} for engines: when the busiest
 * gateway (sockets against capacity) is more than `tolerance` above the mean, or the idlest more
 * than `tolerance` below it, move clients from the busiest to the idlest: as many as leave the
 * two at the same ratio, never more (the hysteresis). Null when balanced, when that is fewer
 * than `minClients`, or with fewer than two gateways taking clients.
 */
export function planGatewayShare(gateways: readonly MemberInfo[], o: { readonly tolerance: number; readonly minClients: number }): PlannedShare | null {
  const pair = unevenPair(gateways, (g) => g.load / g.capacity, o.tolerance);
  if (pair === null) return null;
  const { hot, cold } = pair;
  const even = Math.floor((hot.load * cold.capacity - cold.load * hot.capacity) / (hot.capacity + cold.capacity));
  const count = Math.min(even, cold.capacity - cold.load);
  return count < o.minClients ? null : { from: hot.id, to: cold.id, count };
}

export interface ScaleOptions {
  /** The share of capacity (players, sockets, thread time) the cluster should run at: more is too hot, scale out. */
  readonly targetUtilisation: number;
  readonly minEngines: number;
  readonly minGateways: number;
}

/** How many engines and gateways the cluster should have for its load, and from what. */
export interface ScaleDecision {
  readonly engines: number;
  readonly gateways: number;
  /** Players on the engines, and the capacity of one engine the decision counts with. */
  readonly players: number;
  readonly engineCapacity: number;
  /** Thread utilisation summed over the engines (1 = one engine's threads always busy). */
  readonly threadLoad: number;
  /** Sockets on the gateways, and the capacity of one gateway the decision counts with. */
  readonly sockets: number;
  readonly gatewayCapacity: number;
}

/**
 * The leader's scale decision (docs/scaling.md "Scale decisions"): enough engines that players
 * fill `targetUtilisation` of their CCU caps and their threads are busy `targetUtilisation` of
 * the time, whichever needs more; enough gateways that sockets fill `targetUtilisation` of their
 * capacity; never fewer than the minimums. The load of draining members counts (it moves to the
 * others; while it moves, part of it may count twice for a moment); their capacity does not
 * stand for the next member's: that is the mean of the live ones. Stateless: whoever acts on it
 * (an orchestrator, `npm run cluster -- --autoscale`) smooths it over time.
 */
export function decideScale(members: readonly MemberInfo[], o: ScaleOptions): ScaleDecision {
  const engines = members.filter((m) => m.role === 'engine');
  const gateways = members.filter((m) => m.role === 'gateway');
  const live = (list: MemberInfo[]): MemberInfo[] => list.filter((m) => m.draining !== true);
  const meanCapacity = (list: MemberInfo[]): number => (list.length === 0 ? 0 : list.reduce((s, m) => s + m.capacity, 0) / list.length);
  const engineCapacity = meanCapacity(live(engines)) || meanCapacity(engines);
  const gatewayCapacity = meanCapacity(live(gateways)) || meanCapacity(gateways);
  const players = engines.reduce((s, m) => s + m.load, 0);
  const threadLoad = engines.reduce((s, m) => s + (m.utilisation ?? 0), 0);
  const sockets = gateways.reduce((s, m) => s + m.load, 0);
  const need = (load: number, capacity: number): number => (capacity <= 0 ? 0 : Math.ceil(load / (capacity * o.targetUtilisation)));
  return {
    engines: Math.max(o.minEngines, need(players, engineCapacity), need(threadLoad, 1)),
    gateways: Math.max(o.minGateways, need(sockets, gatewayCapacity)),
    players,
    engineCapacity: Math.round(engineCapacity),
    threadLoad: Math.round(threadLoad * 100) / 100,
    sockets,
    gatewayCapacity: Math.round(gatewayCapacity),
  };
}
