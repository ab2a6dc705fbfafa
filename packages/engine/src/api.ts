import type { Logger, Protocol } from '@gos/schema';
import type { LeaderboardApi } from '@gos/leaderboard';
import type { InterestOptions, SceneEntities } from './api-entities.js';
import type { Mail, SceneMail } from './api-mail.js';
import type { ServiceSceneDefinition } from './api-services.js';

export type { Entity, InterestOptions, SceneEntities } from './api-entities.js';
export type { Mail, MailInput, MailListOptions, MailTo, SceneMail } from './api-mail.js';
export { defineService, isService, type Service, type ServiceDefinition, type ServiceHandler, type ServiceSceneDefinition } from './api-services.js';

/**
 * The public scene API: everything a game developer writes against. Scenes run on worker
 * threads; the game module is imported by every worker, so it must not hold process-wide state.
 */

/** When a durable timer is due: at a time (a Date or ms since the epoch), or after a delay from now. */
export type ScheduleAt = { readonly at: number | Date } | { readonly delayMs: number };

/** A durable timer, as `schedule` returns it and `onTimer` receives it. */
export interface DurableTimer {
  readonly name: string;
  /**
   * Stable id of this scheduling: a firing delivered again (the owner crashed after the firing
   * and before its effects were saved) carries the same id. Use it to make effects outside the
   * owner's state (a push, a call) idempotent.
   */
  readonly id: string;
  /** Ms since the epoch. */
  readonly dueAt: number;
  readonly payload: unknown;
}

/** Durable timers of a scene or a service (docs/timers.md). */
export interface DurableTimers {
  /**
   * Schedule timer `name` (replacing one of that name), due `at` a time or after `delayMs`;
   * `payload` is any JSON value (at most 64 KiB). Saved with the owner's state at its next save,
   * fenced like it; survives crashes and restarts; fires through `onTimer` (a service's
   * `handleTimer`) even when the owner was stopped (it is started for it).
   * @throws CodedError `OPT_ERR_INVALID` for a bad name, time or payload
   */
  schedule(name: string, when: ScheduleAt, payload?: unknown): DurableTimer;
  /** Cancel timer `name`; whether one was pending. */
  cancel(name: string): boolean;
  /** Timer `name` if it is pending. */
  scheduled(name: string): DurableTimer | undefined;
}

/**
 * A shared table (docs/shared-data.md): world data every scene and service reads from a local
 * copy, written only by the service the game names as its owner.
 */
export interface SharedTable<V = unknown> {
  readonly name: string;
  /** The version of the table this copy has (each write makes the next). */
  readonly version: number;
  readonly size: number;
  get(key: string): V | undefined;
  has(key: string): boolean;
  keys(): IterableIterator<string>;
  entries(): IterableIterator<[string, V]>;
  /**
   * Owner only: write `key` (any JSON value, at most 64 KiB). Visible here at once, saved with
   * the owner's state (soon after: within about 100 ms), seen by every other copy within the
   * bound of docs/shared-data.md. @throws CodedError `OPT_ERR_INVALID` from anyone else
   */
  set(key: string, value: V): void;
  /** Owner only: remove `key`; whether it was there. */
  delete(key: string): boolean;
}

/** A handle returned by the scene's timer functions. */
export interface TimerHandle {
  cancel(): void;
}

export interface Player<D = unknown, PM = Record<string, unknown>> extends DurableTimers {
  /** Stable player id (the account id). */
  readonly id: string;
  readonly name: string;
  /** Hot data: loaded on join, written back every `persistIntervalMs`, on leave and on shutdown. */
  data: D;
  /** Say that `data` changed outside a request handler (handlers mark their player automatically). */
  markDirty(): void;
  /** Send a server push to this player only. */
  send<K extends keyof PM & string>(push: K, payload: PM[K]): void;
  /** Disconnect this player with a close code (4000–4999) and reason. */
  kick(closeCode: number, reason: string): void;
  /**
   * Move this player to another scene, on this engine or any other (placed on demand), keeping
   * its socket: the player leaves this scene (`onLeave`), its data is handed over, and the
   * target's `onJoin` receives `arrival` (any JSON value, e.g. a portal's exit point); the client
   * gets the core push `SceneChanged`. Inputs the client sends meanwhile reach the target, in
   * order. Resolves once the player has left this scene. Rejects with a CodedError and the
   * player stays here when the travel cannot happen: `ENG_ERR_TRAVEL` (no target, this scene,
   * a travel already under way, an arrival JSON cannot hold), `ENG_ERR_FULL` (target scene or
   * engine full), `ENG_ERR_SCENE_TYPE_UNKNOWN`, `CRD_ERR_NO_ENGINE`, … (docs/scenes.md "Travel").
   */
  travel(sceneId: string, arrival?: unknown): Promise<void>;
  /**
   * Append an event to this player's log (docs/player-logs.md): who (this player), what
   * (`event`: 1–64 characters of `A–Z a–z 0–9 _ . : -`), when (now), where (this scene), and
   * `fields` (a JSON object of at most 4 KiB). Never waits: events are written to the store in
   * batches, off the tick. @throws CodedError `OPT_ERR_INVALID` for a bad name or fields
   */
  log(event: string, fields?: Record<string, unknown>): void;
}

export interface Scene<S = unknown, D = unknown, PM = Record<string, unknown>> extends DurableTimers {
  readonly id: string;
  readonly type: string;
  /** Scene state: persisted like player data. Call {@link Scene.markDirty} after changing it. */
  state: S;
  readonly players: ReadonlyMap<string, Player<D, PM>>;
  /** Number of ticks run so far. */
  readonly tick: number;
  readonly tickMs: number;
  readonly logger: Logger;
  markDirty(): void;
  /** Send a push to every player in the scene (fanned out by the gateways with one topic). */
  broadcast<K extends keyof PM & string>(push: K, payload: PM[K]): void;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  setInterval(fn: () => void, everyMs: number): TimerHandle;
  /**
   * Call scene `target` (`<type>:<instance>`): its `calls[message]` handler runs with `payload`
   * (any JSON value) and its return value (or resolved promise) is the answer. Rejects with a
   * CodedError: the handler's own code, `ENG_ERR_NO_HANDLER` (no such message),
   * `ENG_ERR_CALL_TIMEOUT` (no answer within `timeoutMs`), `ENG_ERR_NOT_PLACED` (placed nowhere
   * and `place: false`), the retryable `ENG_ERR_SCENE_MOVED`, `LNK_ERR_CLOSED` and
   * `LNK_ERR_NOT_CONNECTED`, the target's start errors; at once with `OPT_ERR_INVALID` from
   * onCreate (answers cannot be read there). Calls and casts from one scene to another arrive in
   * the order they were made. docs/scenes.md "Calls between scenes".
   */
  call<R = unknown>(target: string, message: string, payload?: unknown, options?: CallOptions): Promise<R>;
  /**
   * Send a push to player `playerId` wherever it plays: in this scene, another scene, another
   * engine. Resolves true once the push is handed to the player's connection, false when the
   * player is offline (no session, or not in the scene its session names: between two scenes in
   * the middle of a travel counts as offline). Pushes from one scene to one player arrive in
   * order while the player stays in one scene. Rejects with a CodedError: `ENG_ERR_NO_HANDLER`
   * (no such push), the payload codec's error, `ENG_ERR_CALL_TIMEOUT` (no outcome within 5 s),
   * `ENG_ERR_NO_PRESENCE` (the player is not on this engine and the engine has no presence
   * store), `ENG_ERR_QUEUE_FULL`; at once with `OPT_ERR_INVALID` from onCreate.
   * docs/scenes.md "Pushes to any player".
   */
  sendTo<K extends keyof PM & string>(playerId: string, push: K, payload: PM[K], options?: SendToOptions): Promise<boolean>;
  /** Shared table `name` (declared in the game's `shared`). @throws CodedError `OPT_ERR_INVALID` for a table the game does not declare */
  shared<V = unknown>(name: string): SharedTable<V>;
  /** Like {@link call} without an answer: the target's `casts[message]` handler runs; errors are only logged there. */
  cast(target: string, message: string, payload?: unknown, options?: Pick<CallOptions, 'place'>): void;
  /**
   * The scene's replicated entities (docs/aoi.md).
   * @throws CodedError `OPT_ERR_INVALID` when the protocol declares no `entities:` for this scene type
   */
  readonly entities: SceneEntities;
  /**
   * The cluster's leaderboards (docs/leaderboards.md): every method runs on the engine's main
   * thread and answers here. Rejects with `LB_ERR_NOT_CONFIGURED` on an engine started without
   * leaderboards, and at once with `OPT_ERR_INVALID` from onCreate.
   */
  readonly leaderboards: LeaderboardApi;
  /** Players' mailboxes (docs/mail.md): send, list, read, delete, and claim attachments for a player here. */
  readonly mail: SceneMail;
  /** {@link Player.log} for any player (one not in this scene, or from a timer). */
  logFor(playerId: string, event: string, fields?: Record<string, unknown>): void;
  /**
   * The config data in force (docs/config-data.md): what the game's `config` loader made of the
   * latest published bundle (the generated `configOf(scene)` gives it typed), or null when none
   * was published. It changes only at a tick boundary, with `onConfigReload`.
   */
  readonly config: unknown;
  /** The version of {@link config} (null: none). */
  readonly configVersion: string | null;
}

export interface SendToOptions {
  /** Reject with ENG_ERR_CALL_TIMEOUT when there is no outcome within this long. @default 5000 */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** Place the target scene on demand when it is placed nowhere; false refuses with `ENG_ERR_NOT_PLACED`. @default true */
  readonly place?: boolean;
}

/** A handler of calls (or casts) from other scenes: `from` is the calling scene's id. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CallHandler<S = unknown, D = unknown, PM = Record<string, unknown>> = (scene: Scene<S, D, PM>, payload: any, from: string) => unknown;

export interface HandlerContext<S = unknown, D = unknown, PM = Record<string, unknown>> {
  readonly scene: Scene<S, D, PM>;
  readonly player: Player<D, PM>;
  /** The request's id, for logging. */
  readonly requestId: number;
  /** {@link Scene.sendTo}: a push to any player, wherever it plays. */
  sendTo<K extends keyof PM & string>(playerId: string, push: K, payload: PM[K], options?: SendToOptions): Promise<boolean>;
  /** {@link Player.log} of the requesting player. */
  log(event: string, fields?: Record<string, unknown>): void;
}

/** A request handler: return the response (or nothing for fire-and-forget routes); throw a CodedError to refuse. */
export type Handler<Ctx = HandlerContext, Req = never, Res = unknown> = (ctx: Ctx, req: Req) => Res | Promise<Res>;

export interface SceneDefinition<S = unknown, D = unknown, PM = Record<string, unknown>> {
  /**
   * Fixed tick period of this scene type, in milliseconds: from 1 to 2147483647 (the longest
   * Node timer), fractions allowed (1000 / 60). Any other value keeps the scene from starting:
   * joins to it are refused with `OPT_ERR_INVALID`.
   * @default the engine's `tickMs` (100 ms, 10 Hz)
   */
  readonly tickMs?: number;
  /**
   * When the scene handles its players' fire-and-forget inputs (requests sent with NO_REPLY):
   * - `'on-arrival'`: as soon as they reach the scene's thread, which wakes for each batch.
   * - `'at-tick'`: at the start of the next tick, just before `onTick`. The thread is not woken
   *   for them, which saves a wake-up per batch of inputs (the cheaper choice for scenes whose
   *   inputs only change state that the tick sends out, such as movement). A push a handler
   *   sends for such an input leaves up to one tick later.
   *
   * Either way inputs are handled in arrival order; requests that want an answer, joins and
   * leaves wake the thread at once, and handle every input that came before them first.
   * @default 'on-arrival'
   */
  readonly inputs?: 'on-arrival' | 'at-tick';
  /**
   * Most players the scene holds at once: a login, a resume or a travel into it past that is
   * refused with `ENG_ERR_FULL` (a travel's player stays where it was). A player taking its
   * own seat over (a new connection) is not counted twice.
   * @default no limit (the engine's CCU cap still applies)
   */
  readonly maxPlayers?: number;
  /**
   * The grid of a scene type with replicated entities (required when the protocol declares
   * `entities:` for it). docs/aoi.md.
   */
  readonly interest?: InterestOptions;
  /** Initial state of a scene that has never been persisted. */
  createState(sceneId: string): S;
  /** Initial data of a player that has never been persisted. */
  createPlayer(player: { id: string; name: string }): D;
  onCreate?(scene: Scene<S, D, PM>): void | Promise<void>;
  /** A player entered: at login, on a resume, or from another scene (`arrival` is what that scene gave `travel()`). */
  onJoin?(scene: Scene<S, D, PM>, player: Player<D, PM>, arrival?: unknown): void;
  /** The same player connected again while in the scene (new login, other tab): its hot data is kept, the old connection was closed. */
  onRejoin?(scene: Scene<S, D, PM>, player: Player<D, PM>): void;
  onLeave?(scene: Scene<S, D, PM>, player: Player<D, PM>): void;
  onTick?(scene: Scene<S, D, PM>, dtMs: number): void;
  onDispose?(scene: Scene<S, D, PM>): void;
  /**
   * A durable timer (`scene.schedule`) is due. It is removed before this runs and the removal
   * is saved with the state at the next save, so its effects on the state and its firing are
   * recorded together: after a crash before that save, it fires again (same `timer.id`).
   */
  onTimer?(scene: Scene<S, D, PM>, timer: DurableTimer): void | Promise<void>;
  /**
   * A new config bundle is in force (docs/config-data.md): `scene.config` is `config` from this
   * tick on (a service: from now). `previousVersion` is the one before (null: none).
   */
  onConfigReload?(scene: Scene<S, D, PM>, config: unknown, previousVersion: string | null): void;
  /**
   * One of a player's durable timers (`player.schedule`) is due, in the scene the player is in
   * (a player offline has its overdue timers fired when it next joins a scene). Saved with the
   * player's data like `onTimer` with the state.
   */
  onPlayerTimer?(scene: Scene<S, D, PM>, player: Player<D, PM>, timer: DurableTimer): void | Promise<void>;
  /**
   * `scene.mail.claim(player, mailId)` (docs/mail.md): apply the mail's attachments (as sent:
   * `mail.attachments`) to `player.data`, synchronously. What it changes there is saved together
   * with the claim, in one transaction, exactly once. Change nothing else (the scene's state is
   * saved in its own row, not with the claim). To refuse (an inventory
   * that is full), throw a CodedError before changing anything: nothing is claimed, and any
   * change already made to `player.data` is undone.
   */
  onMailClaim?(scene: Scene<S, D, PM>, player: Player<D, PM>, mail: Mail): void;
  /** Answers to calls from other scenes, by message name (see {@link Scene.call}). */
  readonly calls?: Readonly<Record<string, CallHandler<S, D, PM>>>;
  /** Handlers of casts from other scenes, by message name (see {@link Scene.cast}). */
  readonly casts?: Readonly<Record<string, CallHandler<S, D, PM>>>;
  /** Request handlers by route name, bound through the generated route table. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly handlers: Readonly<Record<string, (ctx: HandlerContext<S, D, PM>, req: any) => unknown>>;
}

export interface GameDefinition<P extends Protocol = Protocol> {
  readonly protocol: P;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly scenes: Readonly<Record<string, SceneDefinition<any, any, any>>>;
  /** Service types by name (see {@link defineService}); a name may not also be a scene type. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly services?: Readonly<Record<string, ServiceSceneDefinition<any, any>>>;
  /**
   * Shared tables by name, each with the id of the service instance that owns it (the only
   * writer), e.g. `{ guilds: 'guildindex:main' }`. docs/shared-data.md.
   */
  readonly shared?: Readonly<Record<string, string>>;
  /**
   * Loads a config bundle (docs/config-data.md): the `loadConfig` that `npm run config` generates,
   * run once per bundle on each worker thread; `scene.config` is what it returns. A loader that
   * throws refuses the bundle (the one in force stays). Without it, `scene.config` is the bundle
   * itself, frozen.
   */
  readonly config?: (bundle: unknown) => unknown;
}

/** Identity helper that keeps the scene's types inferred. */
export function defineScene<S, D, PM = Record<string, unknown>>(def: SceneDefinition<S, D, PM>): SceneDefinition<S, D, PM> {
  return def;
}

/** Identity helper for a game module's default export. */
export function defineGame<P extends Protocol>(def: GameDefinition<P>): GameDefinition<P> {
  return def;
}
