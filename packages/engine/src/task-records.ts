/** The worker task that runs one scene: what it is handed (SceneTaskInput), how it is stopped, and what it resolves with. */
import { CodedError, ErrorCodes } from '@gos/schema';
import type { ConfigOffer } from './config-records.js';
import { isObject } from './record-json.js';
import type { TimerRecord } from './world-records.js';

/** What the main thread hands to the worker task that runs one scene. */
export interface SceneTaskInput {
  readonly sceneId: string;
  readonly sceneType: string;
  /** URL of the game module (default export: GameDefinition). */
  readonly gameModule: string;
  readonly toScene: SharedArrayBuffer;
  readonly fromScene: SharedArrayBuffer;
  /** Persisted scene state, or null for a new scene. */
  readonly state: unknown;
  /** Its durable timers as saved. */
  readonly timers: readonly TimerRecord[];
  readonly tickMs: number;
  readonly persistIntervalMs: number;
  readonly logLevel: string;
  readonly engineId: string;
  /**
   * A scene moved in live (the placement's hand-over): its first tick comes when the engine it
   * left would have ticked next (`at`, ms since the epoch), once `players` are in (at most
   * {@link FIRST_TICK_MAX_WAIT_TICKS} tick intervals later); without it, one interval after it starts.
   */
  readonly firstTick?: { readonly at: number; readonly players: number };
  /** The engine's BroadcastChannel for config bundles (config-records.ts). */
  readonly configChannel: string;
  /** The config bundle in force when the scene starts, or null. */
  readonly config: ConfigOffer | null;
}

/**
 * STOP's value for a scene moving live: it stops right after its next tick (a tick boundary),
 * so that the engine it moves to, ticking first when this one would have ticked next, has a
 * whole interval to start it and take its players in before its players would notice.
 */
export const STOP_AT_TICK = 1;

/**
 * A STOP_AT_TICK waits for the next tick only when it is due within this long; a scene with a
 * longer tick interval stops at once (its stop must land well within the engine's stop timeout).
 */
export const STOP_AT_TICK_MAX_WAIT_MS = 1000;

/** How many tick intervals past its due time a moved-in scene waits for its players before its first tick. */
export const FIRST_TICK_MAX_WAIT_TICKS = 5;

/**
 * What a scene task resolves with: the ticks it ran, or (`failed`) the coded error that kept
 * the scene from starting (an unknown scene type, a bad option, onCreate refusing). A coded
 * error crosses the thread as data: a thrown one would reach the main thread without its code.
 */
export interface SceneTaskResult {
  readonly sceneId: string;
  readonly ticks: number;
  readonly failed?: { readonly code: string; readonly message: string };
  /** When its next tick was due as it stopped, ms since the epoch (a scene moving live hands it over). */
  readonly nextTickAt?: number;
}

function isSceneTaskResult(value: unknown): value is SceneTaskResult {
  if (!isObject(value) || typeof value['sceneId'] !== 'string' || typeof value['ticks'] !== 'number') return false;
  const nextTickAt = value['nextTickAt'];
  if (nextTickAt !== undefined && !(typeof nextTickAt === 'number' && Number.isFinite(nextTickAt))) return false;
  const failed = value['failed'];
  return failed === undefined || (isObject(failed) && typeof failed['code'] === 'string' && typeof failed['message'] === 'string');
}

/**
 * The value a scene task resolved with, checked.
 * @throws CodedError `SCH_ERR_BAD_PAYLOAD` unless it is a {@link SceneTaskResult}.
 */
export function decodeSceneTaskResult(value: unknown): SceneTaskResult {
  if (!isSceneTaskResult(value)) throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, 'a scene task ended with a value that is not a SceneTaskResult');
  return value;
}
