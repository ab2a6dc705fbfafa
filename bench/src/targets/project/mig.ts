/**
 * `mig` (scenarios migrate, engine-drain, rolling-restart, scale-out): scenes full of players
 * that tick at 10 Hz and send every player a Tick each time (the bots measure their longest gap
 * between two ticks: the stall a live move of the scene costs them), and count each player's
 * numbered inputs in its data, which moves with the scene: an input lost or handled twice shows
 * in the counts. A player logs in to `mig:1` and may travel to another `mig:<n>` (`migEnter`).
 */
import { defineScene, type HandlerContext } from '@gos/engine';
import type { PushMap, SceneHandlers } from '../../generated/protocol.js';

/** A player's numbered inputs as its scenes counted them (travel's `hop` scenes count the same way). */
export interface InputCounts {
  received: number;
  duplicated: number;
  lastSeq: number;
}

type MigData = InputCounts;

/** Count input `seq`: one not above the last one was applied twice (or out of order). */
export function countInput(d: InputCounts, seq: number): void {
  d.received++;
  if (seq <= d.lastSeq) d.duplicated++;
  else d.lastSeq = seq;
}

/** The counts as the count routes answer them. */
export function countsOf(d: InputCounts): InputCounts {
  return { received: d.received, duplicated: d.duplicated, lastSeq: d.lastSeq };
}

type MigCtx = HandlerContext<Record<string, never>, MigData, PushMap>;

/** Travel to scene `to`; a refused travel is told to the player (`HopRefused`), who stays. */
export function travelOrTell(player: MigCtx['player'], to: string): void {
  player.travel(to).catch((err: unknown) => {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
    player.send('HopRefused', { code });
  });
}

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
      countInput(player.data, req.seq);
    },
    migCount({ player }) {
      return countsOf(player.data);
    },
    migEnter({ player }, req) {
      travelOrTell(player, req.to);
    },
  } satisfies SceneHandlers<MigCtx>['mig'],
});
