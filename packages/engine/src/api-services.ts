/**
 * The service part of the public scene API (docs/services.md): a service as its handlers see it,
 * its definition (GenServer), and `defineService`, which makes it a scene type without players.
 */
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import type { LeaderboardApi } from '@gos/leaderboard';
import type { CallOptions, DurableTimer, DurableTimers, Scene, SceneDefinition, SendToOptions, SharedTable, TimerHandle } from './api.js';
import type { SceneMail } from './api-mail.js';

/**
 * A service as its handlers see it: a named actor (`<type>:<key>`, e.g. `guild:g7` or
 * `worldboss:main`) with persisted state and no players, hosted on an engine worker like a
 * scene, with one activation in the whole cluster.
 */
export interface Service<S = unknown, PM = Record<string, unknown>> extends DurableTimers {
  readonly id: string;
  readonly type: string;
  /** Persisted like scene state: call {@link Service.markDirty} after changing it. */
  state: S;
  readonly logger: Logger;
  markDirty(): void;
  /** {@link Scene.call}: a scene or another service. */
  call<R = unknown>(target: string, message: string, payload?: unknown, options?: CallOptions): Promise<R>;
  /** {@link Scene.cast}. */
  cast(target: string, message: string, payload?: unknown, options?: Pick<CallOptions, 'place'>): void;
  /** {@link Scene.sendTo}: a push to a player wherever it plays. */
  sendTo<K extends keyof PM & string>(playerId: string, push: K, payload: PM[K], options?: SendToOptions): Promise<boolean>;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  setInterval(fn: () => void, everyMs: number): TimerHandle;
  /** {@link Scene.shared}: the owner of a table writes it through this. */
  shared<V = unknown>(name: string): SharedTable<V>;
  /** {@link Scene.leaderboards}. */
  readonly leaderboards: LeaderboardApi;
  /** {@link Scene.mail} (a service has no players: `claim` is refused). */
  readonly mail: SceneMail;
  /** {@link Scene.logFor}: a player-log event, from a service (mail sent, an item granted). */
  logFor(playerId: string, event: string, fields?: Record<string, unknown>): void;
  /** {@link Scene.config}: for a service it changes between two messages (with `onConfigReload`). */
  readonly config: unknown;
  readonly configVersion: string | null;
}

/** A handler of a service's calls (or casts): `from` is the caller's id (a scene's or a service's). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ServiceHandler<S = unknown, PM = Record<string, unknown>> = (service: Service<S, PM>, payload: any, from: string) => unknown;

/**
 * A service type (GenServer): `init` gives the state of an instance that was never saved;
 * `handleCall` answers calls and `handleCast` takes casts, by message name, **one message at a
 * time in arrival order** (an async handler finishes before the next message starts);
 * `terminate` runs before the instance stops (its state is saved after it). An instance is
 * started on its first call, placed by the coordinator leader with one activation in the
 * cluster (fenced like a scene), saved every `persistIntervalMs` and when it stops, stopped
 * when no call reached it for the engine's `idleSceneMs`, and restarted from its last save
 * after a crash. docs/services.md.
 */
export interface ServiceDefinition<S = unknown, PM = Record<string, unknown>> {
  /** The state of an instance that has never been saved. */
  init(serviceId: string): S;
  /** After the state is loaded, before the first message. */
  onStart?(service: Service<S, PM>): void | Promise<void>;
  readonly handleCall?: Readonly<Record<string, ServiceHandler<S, PM>>>;
  readonly handleCast?: Readonly<Record<string, ServiceHandler<S, PM>>>;
  /** The instance stops (idle, engine shutting down, moved): its state is saved after this. */
  terminate?(service: Service<S, PM>): void;
  /** A durable timer (`service.schedule`) is due: handled in turn with the messages (see SceneDefinition.onTimer). */
  handleTimer?(service: Service<S, PM>, timer: DurableTimer): void | Promise<void>;
  /** A new config bundle is in force (see SceneDefinition.onConfigReload). */
  onConfigReload?(service: Service<S, PM>, config: unknown, previousVersion: string | null): void;
}

/** What {@link defineService} returns: a scene type without players that takes its messages one at a time. */
export interface ServiceSceneDefinition<S = unknown, PM = Record<string, unknown>> extends SceneDefinition<S, unknown, PM> {
  readonly service: true;
}

/** A service type for a game's `services`: hosted like a scene type, with the rules of a service. */
export function defineService<S, PM = Record<string, unknown>>(def: ServiceDefinition<S, PM>): ServiceSceneDefinition<S, PM> {
  // The handlers are given the scene runtime, which is a Service: a Scene has all a Service has.
  const { handleCall, handleCast } = def;
  return Object.freeze({
    service: true as const,
    createState: (id: string) => def.init(id),
    createPlayer: () => {
      throw new CodedError(ErrorCodes.ENG_ERR_SCENE_TYPE_UNKNOWN, 'a service has no players');
    },
    ...(def.onStart === undefined ? {} : { onCreate: (scene: Scene<S, unknown, PM>) => def.onStart?.(scene) }),
    ...(def.terminate === undefined ? {} : { onDispose: (scene: Scene<S, unknown, PM>) => def.terminate?.(scene) }),
    ...(def.handleTimer === undefined ? {} : { onTimer: (scene: Scene<S, unknown, PM>, timer: DurableTimer) => def.handleTimer?.(scene, timer) }),
    ...(def.onConfigReload === undefined ? {} : { onConfigReload: (scene: Scene<S, unknown, PM>, config: unknown, previous: string | null) => def.onConfigReload?.(scene, config, previous) }),
    ...(handleCall === undefined ? {} : { calls: handleCall }),
    ...(handleCast === undefined ? {} : { casts: handleCast }),
    handlers: {},
  });
}

/** Whether a scene type is a service's (made by {@link defineService}). */
export function isService(def: object): boolean {
  return (def as { service?: unknown }).service === true;
}
