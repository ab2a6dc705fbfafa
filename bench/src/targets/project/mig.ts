/**
 * `mig` (scenarios migrate, engine-drain): one scene full of players that ticks at 10 Hz and
 * sends every player a Tick each time (the bots measure their longest gap between two ticks:
 * the stall a live move of the scene costs them), and counts each player's numbered inputs in
 * its data, which moves with the scene: an input lost or handled twice shows in the counts.
 */
import { defineScene, type HandlerContext } from '@gos/engine';
import type { PushMap, SceneHandlers } from '../../generated/protocol.js';

interface MigData {
  received: number;
  duplicated: number;
  lastSeq: number;
}

type MigCtx = HandlerContext<Record<string, never>, MigData, PushMap>;

const NONE: number[] = [];

export const mig = defineScene<Record<string, never>, MigData, PushMap>({
  createState: () => ({}),
  createPlayer: () => ({ received: 0, duplicated: 0, lastSeq: 0 }),
  onJoin(scene, player) {
    player.send('Arrived', { sceneId: scene.id });
  },
  onRejoin(scene, player) {
    player.send('Arrived', { sceneId: scene.id });
  },
  onTick(scene) {
    scene.broadcast('Tick', { serverTime: performance.timeOrigin + performance.now(), ids: NONE, xs: NONE, ys: NONE, acks: NONE });
  },
  handlers: {
    migInput({ player }, req) {
      const d = player.data;
      d.received++;
      if (req.seq <= d.lastSeq) d.duplicated++;
      else d.lastSeq = req.seq;
    },
    migCount({ player }) {
      return { received: player.data.received, duplicated: player.data.duplicated, lastSeq: player.data.lastSeq };
    },
  } satisfies SceneHandlers<MigCtx>['mig'],
});
