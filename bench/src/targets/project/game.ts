/**
 * The bench's game on this framework.
 *
 * - `mmo` (scenario mmo-move): a move sets the player's position and ack; every tick (10 Hz) the
 *   scene broadcasts the players that changed since the last tick, encoded once per scene and
 *   fanned out by the gateways' uWS topics.
 *   The failover scenarios (engine-kill, leader-kill) play it too: the Welcome carries the
 *   player's position, so a bot whose scene resumed on another engine learns what was loaded
 *   from the last save.
 * - `idle` (scenario idle-ccu): players join and get their Welcome; the scene ticks but sends
 *   nothing, so what is measured is the cost of holding connections.
 * - `ticker` (scenario timers): see ticker.ts.
 * - `mig` (scenarios migrate, engine-drain, rolling-restart, scale-out): see mig.ts.
 * - `hop` (scenario travel): players travel between `hop:<n>` scenes; each scene greets an
 *   arriving player with `Arrived`, and counts the numbered inputs it handles in the player's
 *   data, which travels with the player: lost or doubled inputs show in the counts.
 */
import { defineGame, defineScene, type HandlerContext } from '@gos/engine';
import { protocol, type PushMap, type SceneHandlers } from '../../generated/protocol.js';
import { ticker } from './ticker.js';
import { aoi } from './aoi.js';
import { countInput, countsOf, mig, travelOrTell, type InputCounts } from './mig.js';

interface PlayerData {
  x: number;
  y: number;
}

interface Slot {
  readonly id: number;
  readonly data: PlayerData;
  ack: number;
}

/** Per scene: every player's slot, and the slots changed since the last tick. */
interface SceneView {
  readonly slots: Map<string, Slot>;
  readonly changed: Set<Slot>;
  nextId: number;
}

const views = new Map<string, SceneView>();

function viewOf(sceneId: string): SceneView {
  let v = views.get(sceneId);
  if (v === undefined) {
    v = { slots: new Map(), changed: new Set(), nextId: 1 };
    views.set(sceneId, v);
  }
  return v;
}

type Ctx = HandlerContext<Record<string, never>, PlayerData, PushMap>;

const handlers: SceneHandlers<Ctx>['mmo'] = {
  move({ scene, player }, req) {
    if (!Number.isFinite(req.x) || !Number.isFinite(req.y)) return;
    const view = viewOf(scene.id);
    const slot = view.slots.get(player.id);
    if (slot === undefined) return;
    slot.data.x = req.x;
    slot.data.y = req.y;
    slot.ack = req.seq;
    view.changed.add(slot);
  },
};

export const mmo = defineScene<Record<string, never>, PlayerData, PushMap>({
  // Moves only change positions that the tick sends out: handled at the tick, the scene's thread
  // is not woken for each batch of them. BENCH_INPUTS=on-arrival runs the engine's default (A/B).
  inputs: process.env['BENCH_INPUTS'] === 'on-arrival' ? 'on-arrival' : 'at-tick',
  createState: () => ({}),
  createPlayer: () => ({ x: Math.random() * 1000, y: Math.random() * 1000 }),
  onJoin(scene, player) {
    const view = viewOf(scene.id);
    const slot: Slot = { id: view.nextId++, data: player.data, ack: 0 };
    view.slots.set(player.id, slot);
    view.changed.add(slot);
    // The position is the saved one when the player's scene resumed on another engine.
    player.send('Welcome', { id: slot.id, x: slot.data.x, y: slot.data.y });
  },
  onRejoin(scene, player) {
    const slot = viewOf(scene.id).slots.get(player.id);
    if (slot !== undefined) player.send('Welcome', { id: slot.id, x: slot.data.x, y: slot.data.y });
  },
  onLeave(scene, player) {
    const view = viewOf(scene.id);
    const slot = view.slots.get(player.id);
    if (slot === undefined) return;
    view.slots.delete(player.id);
    view.changed.delete(slot);
  },
  onTick(scene) {
    const { changed } = viewOf(scene.id);
    const n = changed.size;
    const ids = new Array<number>(n);
    const xs = new Array<number>(n);
    const ys = new Array<number>(n);
    const acks = new Array<number>(n);
    let i = 0;
    for (const slot of changed) {
      ids[i] = slot.id;
      xs[i] = slot.data.x;
      ys[i] = slot.data.y;
      acks[i] = slot.ack;
      i++;
    }
    changed.clear();
    scene.broadcast('Tick', { serverTime: performance.timeOrigin + performance.now(), ids, xs, ys, acks });
  },
  onDispose(scene) {
    views.delete(scene.id);
  },
  handlers,
});

export const idle = defineScene<Record<string, never>, PlayerData, PushMap>({
  createState: () => ({}),
  createPlayer: () => ({ x: 0, y: 0 }),
  onJoin(_scene, player) {
    player.send('Welcome', { id: 0, x: 0, y: 0 });
  },
  onRejoin(_scene, player) {
    player.send('Welcome', { id: 0, x: 0, y: 0 });
  },
  handlers: {},
});

/** chat-fanout: one big scene; a line said by one player is broadcast to all (one encode, one uWS topic publish). */
let chatIds = 0;
const chatIdOf = new Map<string, number>();

export const chat = defineScene<Record<string, never>, PlayerData, PushMap>({
  createState: () => ({}),
  createPlayer: () => ({ x: 0, y: 0 }),
  onJoin(_scene, player) {
    const id = ++chatIds;
    chatIdOf.set(player.id, id);
    player.send('Welcome', { id, x: 0, y: 0 });
  },
  onRejoin(_scene, player) {
    player.send('Welcome', { id: chatIdOf.get(player.id) ?? 0, x: 0, y: 0 });
  },
  onLeave(_scene, player) {
    chatIdOf.delete(player.id);
  },
  handlers: {
    say({ scene, player }, req) {
      scene.broadcast('ChatLine', { sentAt: req.sentAt, from: chatIdOf.get(player.id) ?? 0, text: req.text.slice(0, 200) });
    },
  } satisfies SceneHandlers<Ctx>['chat'],
});

type HopData = InputCounts;

type HopCtx = HandlerContext<Record<string, never>, HopData, PushMap>;

export const hop = defineScene<Record<string, never>, HopData, PushMap>({
  createState: () => ({}),
  createPlayer: () => ({ received: 0, duplicated: 0, lastSeq: 0 }),
  onJoin(scene, player) {
    player.send('Arrived', { sceneId: scene.id });
  },
  onRejoin(scene, player) {
    player.send('Arrived', { sceneId: scene.id });
  },
  handlers: {
    hop({ player }, req) {
      travelOrTell(player, req.to);
    },
    input({ player }, req) {
      countInput(player.data, req.seq);
    },
    count({ player }) {
      return countsOf(player.data);
    },
  } satisfies SceneHandlers<HopCtx>['hop'],
});

export default defineGame({ protocol, scenes: { mmo, idle, chat, hop, ticker, aoi, mig } });
