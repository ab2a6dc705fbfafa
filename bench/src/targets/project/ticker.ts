/**
 * `ticker` (scenario timers): a scene with a fixed amount of work per tick (moving 500
 * entities, 20 Hz) that measures its own ticks, and schedules and fires durable timers on
 * demand. The bench drives it and reads its figures over a BroadcastChannel: the scene runs on
 * an engine worker thread of the bench process itself.
 *
 * Tick time: how long after its due time a tick finished (the delay before it started plus its
 * own work), so that work done between ticks (timers firing, saves) shows in it.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { defineScene, type Scene } from '@gos/engine';
import type { PushMap } from '../../generated/protocol.js';

export const TICKER_CHANNEL = 'gos-bench-timers';
const TICK_MS = 50;
const ENTITIES = 500;

/** From the bench to a ticker scene. */
export type TickerCommand =
  | { readonly type: 'measure'; readonly sceneId: string }
  | { readonly type: 'schedule'; readonly sceneId: string; readonly count: number; readonly fromMs: number; readonly spreadMs: number }
  | { readonly type: 'report'; readonly sceneId: string }
  /** Append `perTick` player-log events every tick from now on (scenario player-logs). */
  | { readonly type: 'log'; readonly sceneId: string; readonly perTick: number };

/** From a ticker scene to the bench. */
export type TickerReport =
  | { readonly type: 'scheduled'; readonly sceneId: string; readonly count: number; readonly ms: number }
  | { readonly type: 'report'; readonly sceneId: string; readonly tickMs: readonly number[]; readonly lateMs: readonly number[]; readonly pending: number };

interface Figures {
  ticks: number[];
  lates: number[];
  /** Ideal start of tick `base.n`, for the ticks after it. */
  base: { at: number; n: number } | null;
}

const figures = new Map<string, Figures>();
const entities = new Map<string, Float64Array>();
let channel: BroadcastChannel | null = null;
const scenes = new Map<string, Scene<TickerState, NoPlayer, PushMap>>();

interface TickerState {
  started: number;
}

/** The ticker has no players. */
type NoPlayer = Record<string, never>;

export function isTickerCommand(v: unknown): v is TickerCommand {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (typeof o['sceneId'] !== 'string') return false;
  if (o['type'] === 'measure' || o['type'] === 'report') return true;
  if (o['type'] === 'log') return typeof o['perTick'] === 'number' && Number.isInteger(o['perTick']) && o['perTick'] >= 0;
  return o['type'] === 'schedule' && typeof o['count'] === 'number' && typeof o['fromMs'] === 'number' && typeof o['spreadMs'] === 'number';
}

export function isTickerReport(v: unknown): v is TickerReport {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (typeof o['sceneId'] !== 'string') return false;
  if (o['type'] === 'scheduled') return typeof o['count'] === 'number' && typeof o['ms'] === 'number';
  const isNumbers = (a: unknown): boolean => Array.isArray(a) && a.every((x) => typeof x === 'number');
  return o['type'] === 'report' && isNumbers(o['tickMs']) && isNumbers(o['lateMs']) && typeof o['pending'] === 'number';
}

function listen(): void {
  if (channel !== null) return;
  channel = new BroadcastChannel(TICKER_CHANNEL);
  channel.onmessage = (e: MessageEvent) => {
    const cmd: unknown = e.data;
    if (!isTickerCommand(cmd)) return;
    const scene = scenes.get(cmd.sceneId);
    const f = figures.get(cmd.sceneId);
    if (scene === undefined || f === undefined) return;
    if (cmd.type === 'measure') {
      f.ticks = [];
      f.lates = [];
    } else if (cmd.type === 'log') {
      logsPerTick.set(cmd.sceneId, cmd.perTick);
    } else if (cmd.type === 'schedule') {
      const t0 = performance.now();
      const now = Date.now();
      scheduled.set(cmd.sceneId, cmd.count);
      for (let i = 0; i < cmd.count; i++) scene.schedule(`t${i}`, { at: now + cmd.fromMs + Math.floor((cmd.spreadMs * i) / cmd.count) }, { i });
      channel?.postMessage({ type: 'scheduled', sceneId: cmd.sceneId, count: cmd.count, ms: performance.now() - t0 } satisfies TickerReport);
    } else {
      channel?.postMessage({ type: 'report', sceneId: cmd.sceneId, tickMs: f.ticks, lateMs: f.lates, pending: countPending(scene, cmd.sceneId) } satisfies TickerReport);
    }
  };
}

/** Pending timers, counted by name (t0…): the bench schedules them under those names. */
function countPending(scene: Scene<TickerState, NoPlayer, PushMap>, sceneId: string): number {
  const scheduledCount = scheduled.get(sceneId) ?? 0;
  let n = 0;
  for (let i = 0; i < scheduledCount; i++) if (scene.scheduled(`t${i}`) !== undefined) n++;
  return n;
}
/** Timers the bench had each scene schedule (named t0…). */
const scheduled = new Map<string, number>();
/** Player-log events each scene appends per tick. */
const logsPerTick = new Map<string, number>();
let logSeq = 0;

export const ticker = defineScene<TickerState, NoPlayer, PushMap>({
  tickMs: TICK_MS,
  createState: () => ({ started: Date.now() }),
  createPlayer: () => {
    throw new Error('the ticker has no players');
  },
  onCreate(scene) {
    listen();
    scenes.set(scene.id, scene);
    figures.set(scene.id, { ticks: [], lates: [], base: null });
    entities.set(scene.id, new Float64Array(ENTITIES * 4).map(() => Math.random() * 1000));
  },
  onTick(scene) {
    const f = figures.get(scene.id)!;
    const now = performance.now();
    // Ideal start: the ticks keep to a fixed timeline from the first one measured (re-based
    // after a long stall, as the engine skips missed ticks then).
    if (f.base === null || now - (f.base.at + (scene.tick - f.base.n) * TICK_MS) > TICK_MS * 5) f.base = { at: now, n: scene.tick };
    const due = f.base.at + (scene.tick - f.base.n) * TICK_MS;
    const e = entities.get(scene.id)!;
    for (let i = 0; i < ENTITIES; i++) {
      const o = i * 4;
      e[o] = (e[o]! + e[o + 2]! * 0.05 + 1000) % 1000;
      e[o + 1] = (e[o + 1]! + e[o + 3]! * 0.05 + 1000) % 1000;
      if ((scene.tick + i) % 97 === 0) e[o + 2] = Math.random() * 10 - 5;
    }
    // Player-log events, as a game would append them (a player, an event name, a few fields).
    const logs = logsPerTick.get(scene.id) ?? 0;
    for (let i = 0; i < logs; i++) {
      const n = logSeq++;
      scene.logFor(`player-${n % 1000}`, 'bench.item', { item: n % 97, gold: n % 1000, x: e[(n % ENTITIES) * 4] });
    }
    f.ticks.push(performance.now() - Math.min(due, now));
  },
  onTimer(scene, timer) {
    figures.get(scene.id)?.lates.push(Date.now() - timer.dueAt);
  },
  onDispose(scene) {
    scenes.delete(scene.id);
    figures.delete(scene.id);
    entities.delete(scene.id);
    scheduled.delete(scene.id);
    logsPerTick.delete(scene.id);
  },
  handlers: {},
});
