/**
 * `field:<n>`: a large map with replicated entities (docs/aoi.md). Each player is an `Avatar`
 * entity and its viewpoint: its client hears only the cells around it, fed through an
 * EntityTable. Critters wander about so that there is something to see. Reached with the
 * `travel` route of the world maps; `leaveField` goes back to one.
 */
import { defineScene, type HandlerContext, type Scene } from '@gos/engine';
import { CodedError, ErrorCodes, isCodedError } from '@gos/schema';
import type { PushMap, SceneHandlers } from './generated/protocol.js';
import type { PlayerData } from './game.js';
import { MAPS } from './portals.js';

import { FIELD_CELL, FIELD_NEAR, FIELD_SIZE, FIELD_VIEW } from './field-map.js';
import { welcomeLines } from './config-data.js';

export { FIELD_CELL, FIELD_MAPS, FIELD_SIZE, FIELD_VIEW } from './field-map.js';
const CRITTERS = 300;
/** Fastest a player walks, in world units per second. */
const MAX_SPEED = 300;
const MAX_BURST = 60;

type FieldState = Record<string, never>;
type Ctx = HandlerContext<FieldState, PlayerData, PushMap>;

const clamp = (v: number): number => Math.min(FIELD_SIZE, Math.max(0, v));
/** When each player last walked, for the speed limit (not persisted), per scene: a worker hosts several. */
const lastWalkAt = new Map<string, Map<string, number>>();
const walksOf = (sceneId: string): Map<string, number> => {
  let m = lastWalkAt.get(sceneId);
  if (m === undefined) lastWalkAt.set(sceneId, (m = new Map<string, number>()));
  return m;
};

function travelOut({ scene, player }: Pick<Ctx, 'scene' | 'player'>, to: string, at: { x: number; y: number }): void {
  player.travel(to, at).catch((err: unknown) => {
    scene.logger.info({ err, playerId: player.id, to }, 'travel refused');
    player.send('ChatLine', { from: 'server', text: `cannot go to ${to}: ${isCodedError(err) ? err.code : 'error'}` });
  });
}

const handlers: SceneHandlers<Ctx>['field'] = {
  walk({ scene, player }, req) {
    const avatar = scene.entities.of(player);
    if (avatar === undefined || !Number.isFinite(req.x) || !Number.isFinite(req.y)) return;
    const now = performance.now();
    const walks = walksOf(scene.id);
    const since = Math.min(1000, now - (walks.get(player.id) ?? now - 1000));
    walks.set(player.id, now);
    const { x, y } = avatar.values as { x: number; y: number };
    const dx = clamp(req.x) - x;
    const dy = clamp(req.y) - y;
    const dist = Math.hypot(dx, dy);
    const max = (MAX_SPEED * since) / 1000 + MAX_BURST;
    const k = dist <= max ? 1 : max / dist;
    const to = { x: x + dx * k, y: y + dy * k };
    avatar.set(to);
    // Saved with the player: a reconnect or a restarted scene puts it back here.
    player.data.field = to;
  },
  leaveField({ scene, player }, req) {
    if (!MAPS.includes(req.sceneId)) throw new CodedError(ErrorCodes.ENG_ERR_TRAVEL, `no way from ${scene.id} to ${req.sceneId}; the maps are ${MAPS.join(', ')}`);
    travelOut({ scene, player }, req.sceneId, { x: req.x, y: req.y });
    return { from: scene.id, to: req.sceneId };
  },
};

/** A point `{ x, y }` of finite numbers, or null. */
function pointOf(value: unknown): { x: number; y: number } | null {
  if (typeof value !== 'object' || value === null) return null;
  const { x, y } = value as { x?: unknown; y?: unknown };
  return typeof x === 'number' && typeof y === 'number' && Number.isFinite(x) && Number.isFinite(y) ? { x, y } : null;
}

/** Critters take a step now and then; a few change direction each tick. */
function wander(scene: Scene<FieldState, PlayerData, PushMap>): void {
  for (const e of scene.entities.values()) {
    if (e.type !== 'Critter' || Math.random() > 0.2) continue;
    const { x, y } = e.values as { x: number; y: number };
    e.set({ x: clamp(x + (Math.random() - 0.5) * 40), y: clamp(y + (Math.random() - 0.5) * 40) });
  }
}

export const field = defineScene<FieldState, PlayerData, PushMap>({
  interest: { cellSize: FIELD_CELL, width: FIELD_SIZE, height: FIELD_SIZE, viewRadius: FIELD_VIEW, nearRadius: FIELD_NEAR },
  createState: () => ({}),
  createPlayer: ({ id }) => ({ x: 0, y: 0, color: [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) & 0xffffff, moves: 0 }),
  onCreate(scene) {
    for (let i = 0; i < CRITTERS; i++) scene.entities.spawn('Critter', { x: Math.random() * FIELD_SIZE, y: Math.random() * FIELD_SIZE, kind: i % 4 });
  },
  onJoin(scene, player, arrival) {
    // From a travel: the arrival point; else (a login, a resume) where it was last.
    const at = pointOf(arrival) ?? pointOf(player.data.field);
    const x = at === null ? Math.random() * FIELD_SIZE : clamp(at.x);
    const y = at === null ? Math.random() * FIELD_SIZE : clamp(at.y);
    scene.entities.spawn('Avatar', { x, y, name: player.name, color: player.data.color }, { player });
    player.send('Welcome', { playerId: player.id, name: player.name, sceneId: scene.id, x, y, ...welcomeLines(scene) });
  },
  onRejoin(scene, player) {
    const me = scene.entities.of(player)?.values as { x: number; y: number } | undefined;
    player.send('Welcome', { playerId: player.id, name: player.name, sceneId: scene.id, x: me?.x ?? 0, y: me?.y ?? 0, ...welcomeLines(scene) });
  },
  onLeave(scene, player) {
    walksOf(scene.id).delete(player.id);
  },
  onDispose(scene) {
    lastWalkAt.delete(scene.id);
  },
  onTick(scene) {
    wander(scene);
  },
  handlers,
});
