/**
 * The bench's `aoi` scene (scenario mmo-aoi, bench/README.md): one large map where each player
 * is an `Avatar` entity and its viewpoint; its client hears only the cells around it
 * (docs/aoi.md). A move sets the avatar's position and its `ack` (the move's seq). With
 * `BENCH_AOI_NPCS`, that many `Npc` entities wander, each moving every tick.
 */
import { defineScene, type HandlerContext, type Scene } from '@gos/engine';
import type { PushMap, SceneHandlers } from '../../generated/protocol.js';
import { AOI_CELL, AOI_HYSTERESIS, AOI_MAP, AOI_VIEW } from './aoi-map.js';

type Ctx = HandlerContext<Record<string, never>, Record<string, never>, PushMap>;

const npcCount = Math.max(0, Math.floor(Number(process.env['BENCH_AOI_NPCS'] ?? 0)) || 0);
/** bench --cell and --hysteresis (checked there). */
const cellSize = Number(process.env['BENCH_AOI_CELL'] ?? AOI_CELL);
const hysteresis = Number(process.env['BENCH_AOI_HYSTERESIS'] ?? AOI_HYSTERESIS);
/** bench --near-radius: the near band; beyond it positions go every 3rd tick (the YAML's farEvery). */
const near = process.env['BENCH_AOI_NEAR'];

/** One object for every NPC's step: `set` copies the values it is given, so it may be reused. */
const step = { x: 0, y: 0 };

function wander(scene: Scene<Record<string, never>, Record<string, never>, PushMap>): void {
  for (const e of scene.entities.values()) {
    if (e.type !== 'Npc') continue;
    step.x = Math.min(AOI_MAP, Math.max(0, (e.get('x') as number) + (Math.random() - 0.5) * 20));
    step.y = Math.min(AOI_MAP, Math.max(0, (e.get('y') as number) + (Math.random() - 0.5) * 20));
    e.set(step);
  }
}

export const aoi = defineScene<Record<string, never>, Record<string, never>, PushMap>({
  // Moves only change what the tick sends: handled at the tick (as the mmo scene).
  inputs: 'at-tick',
  interest: { cellSize, width: AOI_MAP, height: AOI_MAP, viewRadius: AOI_VIEW, hysteresis, ...(near === undefined ? {} : { nearRadius: Number(near) }) },
  createState: () => ({}),
  createPlayer: () => ({}),
  onCreate(scene) {
    for (let i = 0; i < npcCount; i++) scene.entities.spawn('Npc', { x: Math.random() * AOI_MAP, y: Math.random() * AOI_MAP });
  },
  onJoin(scene, player) {
    const x = Math.random() * AOI_MAP;
    const y = Math.random() * AOI_MAP;
    const e = scene.entities.spawn('Avatar', { x, y, ack: 0 }, { player });
    player.send('Welcome', { id: e.id, x, y });
  },
  onRejoin(scene, player) {
    const e = scene.entities.of(player);
    if (e !== undefined) player.send('Welcome', { id: e.id, x: e.values['x'] as number, y: e.values['y'] as number });
  },
  onTick(scene) {
    if (npcCount > 0) wander(scene);
  },
  handlers: {
    walk({ scene, player }, req) {
      if (!Number.isFinite(req.x) || !Number.isFinite(req.y)) return;
      scene.entities.of(player)?.set({ x: Math.min(AOI_MAP, Math.max(0, req.x)), y: Math.min(AOI_MAP, Math.max(0, req.y)), ack: req.seq });
    },
  } satisfies SceneHandlers<Ctx>['aoi'],
});
