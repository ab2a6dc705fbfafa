/**
 * Record types on the main ↔ scene rings. A record is (type, a, b, payload); the meaning of
 * `a`, `b` and the payload for each type is given beside it. `sid` is the engine-local id of a
 * player's connection.
 */
export const ToScene = {
  /** a=sid. payload=JSON {@link JoinPayload}. */
  JOIN: 1,
  /** a=sid. */
  LEAVE: 2,
  /** a=sid. payload=the client's frame, header included. */
  FRAME: 3,
  /** Persist everything, run onDispose, answer STOPPED. */
  STOP: 4,
} as const;

export const FromScene = {
  /** a=sid. payload=frame for that player. */
  SEND: 32,
  /** payload=frame for every player of the scene. */
  BROADCAST: 33,
  /** a=sid, b=close code. payload=reason (utf-8). */
  KICK: 34,
  /** a=sid. The player is in the scene. */
  JOINED: 35,
  /** a=sid. payload=JSON ErrorData. */
  JOIN_FAILED: 36,
  /** a=sid, b=1 when the player left (last save). payload=JSON {@link SavePayload}. */
  SAVE_PLAYER: 37,
  /** b=1 when final. payload=JSON scene state. */
  SAVE_SCENE: 38,
  /** The scene has flushed and disposed; the task ends next. */
  STOPPED: 39,
  /** onCreate finished; the scene accepts players. */
  READY: 40,
  /**
   * About once a second while the scene ticks: a=ticks that took longer than tickMs since the
   * last STATS. payload=the bytes of a Float64Array (native byte order: same process) of the durations in ms of the ticks since.
   */
  STATS: 41,
} as const;

/** How often a scene reports its tick durations (FromScene.STATS). */
export const SCENE_STATS_INTERVAL_MS = 1000;

export interface JoinPayload {
  readonly playerId: string;
  readonly name: string;
  /** Persisted data, or null for a new player (the scene calls createPlayer). */
  readonly data: unknown;
  /** True when the player is already in this scene on another connection: keep its hot data. */
  readonly takeover: boolean;
}

export interface SavePayload {
  readonly playerId: string;
  readonly data: unknown;
}

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
  readonly tickMs: number;
  readonly persistIntervalMs: number;
  readonly logLevel: string;
  readonly engineId: string;
}

export interface SceneTaskResult {
  readonly sceneId: string;
  readonly ticks: number;
}
