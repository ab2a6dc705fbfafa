import type { Logger } from '@gos/schema';
import { hasRoom, rankGateways, type MemberInfo, type Placement, type PlacementRecord } from '@gos/coordinator';
import type { SessionStore } from './session/index.js';

/**
 * AgentMgr's gateway order for a login (see `rankGateways`), keeping the players of one group
 * on as few gateways as possible: a player whose account has a group goes to the gateway the
 * group already uses while that gateway is alive and under its capacity; otherwise to the
 * least-loaded gateway under capacity, which becomes the group's gateway. The assignment lives
 * in the session store, so every gateway answering logins sees the same one, and two logins of
 * one group racing through two gateways agree (the store's set-if-absent / compare-and-set).
 *
 * When every gateway is at capacity the group keeps its gateway (nothing better to move it to)
 * and the player gets the plain order. Capacity is soft: logins are counted only once their
 * sockets connect, so a burst of one group's logins can take its gateway a little past it.
 *
 * After the group's gateway comes the gateway beside the player's scene (`local`: the one in
 * the process of the engine hosting it), when it has room; a group's first login picks it too.
 *
 * @param gateways the live gateways (membership's view)
 * @param self this gateway's id: first among equals
 * @param local the gateway in the process of the engine hosting the player's scene, if any
 * @throws CodedError `GW_ERR_SESSION_STORE` when the session store fails (the login answers 503)
 */
export async function chooseGateways(
  sessions: SessionStore,
  gateways: readonly MemberInfo[],
  self: string,
  groupId: string | null,
  logger: Logger,
  local?: string,
): Promise<MemberInfo[]> {
  if (groupId === null || gateways.length === 0) return rankGateways(gateways, self, local);
  const usable = (id: string | null): id is string => id !== null && gateways.some((g) => g.id === id && hasRoom(g));
  const current = await sessions.groupGateway(groupId);
  if (usable(current)) return rankGateways(gateways, self, current);
  const ranked = rankGateways(gateways, self, local);
  const best = ranked[0]!;
  if (!hasRoom(best)) return ranked;
  const agreed = await sessions.assignGroupGateway(groupId, best.id, current);
  if (agreed === best.id) {
    if (current === null) logger.debug({ groupId, gatewayId: best.id }, 'group assigned to a gateway');
    else logger.info({ groupId, gatewayId: best.id, previous: current }, 'group moved to another gateway: its own is gone or full');
    return ranked;
  }
  // Another login of the group chose first; this gateway's view may not list that one yet.
  return rankGateways(gateways, self, usable(agreed) ? agreed : undefined);
}

/**
 * The gateway that lives in the process of the engine hosting `sceneId`, if there is one: in a
 * cluster of `gateway+engine` processes, its players' frames never cross TCP. A scene placed
 * nowhere yet is placed now (`ensurePlaced`: the player enters it next); if that fails, no
 * preference. Without any such gateway, nothing is looked up.
 */
export async function gatewayBesideScene(
  gateways: readonly MemberInfo[],
  sceneId: string,
  placement: Pick<Placement, 'lookup'>,
  ensurePlaced: (sceneId: string) => Promise<PlacementRecord>,
): Promise<string | undefined> {
  if (!gateways.some((g) => g.localEngineId !== undefined)) return undefined;
  const placed = placement.lookup(sceneId) ?? (await ensurePlaced(sceneId).catch(() => undefined));
  return placed === undefined ? undefined : gateways.find((g) => g.localEngineId === placed.engineId)?.id;
}
