import { CodedError, ErrorCodes, FrameKind, encodeFrame, type Logger, type Protocol } from '@gos/schema';
import { isService, type SceneEntities, type CallHandler, type CallOptions, type DurableTimer, type Player, type Scene, type SceneDefinition, type ScheduleAt, type SharedTable, type TimerHandle } from '../api.js';

import type { Outbox } from '../outbox.js';
import { RuntimePlayer } from './runtime-player.js';
import { SceneRoster } from './runtime-roster.js';
import { PendingTravels } from './runtime-travels.js';
import { SceneCalls, refused } from './runtime-calls.js';
import { SceneLeaderboards } from './scene-leaderboards.js';
import { SceneMail } from './scene-mail.js';
import { PlayerLogBuffer } from './player-log-buffer.js';
import { SceneRequests } from './runtime-requests.js';
import { RpcPayloads } from './rpc-payloads.js';
import { SceneBuiltins } from './runtime-builtins.js';
import { SharedViews } from './shared-views.js';
import { SceneSaver } from './scene-saver.js';
import { TimerFiring, guarded } from './timer-firing.js';
import { DurableTimers } from './durable-timers.js';
import { TickSchedule } from './tick-schedule.js';
import { TickStats, elapsedMs } from './tick-stats.js';
import { replicationFor, type SceneReplication } from './replication.js';
import { SceneTimers } from './scene-timers.js';
import { FromScene, encodeReadyPayload, encodeTravelPayload, type CallAnswer, type IncomingCall, type JoinPayload, type SceneTaskInput, type SharedData, type TimerRecord } from '../records.js';

const encoder = new TextEncoder();
/** How soon a write of a shared table is saved (with the owner's state). */
const SHARED_SAVE_MS = 100;
/** How long a stopping service waits for the handler at work before terminate and its final save. */
const STOP_GRACE_MS = 2000;

/**
 * One scene on a worker thread: the object behind the {@link Scene} API. It reads records from
 * the main thread (joins, leaves, client frames), runs handlers and the fixed tick, and writes
 * frames, saves and kicks back.
 */
export class SceneRuntime implements Scene<unknown, unknown, Record<string, unknown>> {
  readonly id: string;
  readonly type: string;
  state: unknown;
  tick = 0;
  readonly tickMs: number;
  readonly logger: Logger;
  readonly #def: SceneDefinition;
  readonly #protocol: Protocol;
  readonly #out: Outbox;
  /** Its players, by id and by connection (join and leave: runtime-roster.ts). */
  readonly #roster: SceneRoster;
  readonly #players: Map<string, RuntimePlayer>;
  readonly #bySid: ReadonlyMap<number, RuntimePlayer>;
  readonly #requests: SceneRequests;
  readonly #timers = new SceneTimers((what, fn) => this.#guard(what, fn));
  /** Players whose travel is under way: settled when they leave, or when the travel fails. */
  readonly #travels = new PendingTravels();
  readonly #calls: SceneCalls;
  readonly leaderboards: SceneLeaderboards;
  readonly mail: SceneMail;
  /** Set by SceneConfig (worker/scene-config.ts), at tick boundaries. */
  config: unknown = null;
  configVersion: string | null = null;
  readonly #playerLogs: PlayerLogBuffer;
  readonly #saver: SceneSaver;
  readonly #ticks: TickSchedule;
  readonly #tickStats: TickStats;
  #persistTimer: ReturnType<typeof setInterval> | undefined;
  #disposed = false;
  readonly #beforeTick: (() => void) | undefined;
  /** A service (defineService): no players, no tick, one message at a time. */
  readonly #service: boolean;
  readonly #durable: DurableTimers;
  readonly #firing: TimerFiring;
  readonly #shared: SharedViews;
  #soonSave: ReturnType<typeof setTimeout> | undefined;
  readonly #builtins: SceneBuiltins;
  /** Replicated entities, when the protocol declares them for this scene type. */
  readonly #replication: SceneReplication | null;

  constructor(opts: {
    id: string;
    type: string;
    def: SceneDefinition;
    protocol: Protocol;
    out: Outbox;
    state: unknown;
    /** Its durable timers as saved. */
    timers?: readonly TimerRecord[];
    /** The game's shared tables and their owners. */
    shared?: Readonly<Record<string, string>>;
    tickMs: number;
    logger: Logger;
    /** Called at the start of every tick, before onTick (a scene whose inputs wait for its tick drains them there). */
    beforeTick?: () => void;
  }) {
    this.id = opts.id;
    this.type = opts.type;
    this.#def = opts.def;
    this.#protocol = opts.protocol;
    this.#out = opts.out;
    this.tickMs = opts.def.tickMs ?? opts.tickMs;
    this.logger = opts.logger;
    this.#beforeTick = opts.beforeTick;
    this.#service = isService(opts.def);
    this.#roster = new SceneRoster({
      scene: this,
      def: opts.def,
      out: opts.out,
      service: this.#service,
      travels: this.#travels,
      replication: () => this.#replication,
      logger: opts.logger,
      guard: (what, fn) => this.#guard(what, fn),
      joined: () => this.#ticks.playerJoined(),
    });
    this.#players = this.#roster.players;
    this.#bySid = this.#roster.bySid;
    const rpcPayloads = new RpcPayloads(opts.protocol, opts.type);
    this.#calls = new SceneCalls(opts.out, opts.id, opts.logger, rpcPayloads, this.#service);
    this.leaderboards = new SceneLeaderboards(this.#calls);
    this.mail = new SceneMail(this.#calls, { scene: this, def: opts.def, player: (playerId) => this.#players.get(playerId), service: this.#service });
    this.#playerLogs = new PlayerLogBuffer(opts.out, opts.logger);
    this.#tickStats = new TickStats(opts.out, this.tickMs);
    this.#ticks = new TickSchedule(this.tickMs, (now, elapsed) => this.#runTick(now, elapsed), () => this.#players.size);
    this.#requests = new SceneRequests(this, opts.def, opts.protocol, opts.out, (sid) => this.#bySid.get(sid));
    this.#firing = new TimerFiring({ scene: this, def: opts.def, logger: opts.logger, serially: this.#service ? (task, unbounded) => this.#calls.serially(task, unbounded) : null, markDirty: () => this.#saver.markDirty() });
    this.#durable = new DurableTimers(opts.timers ?? [], (timer) => this.#firing.scene(this.#durable, timer));
    // A write of a shared table this scene owns is saved soon, not at the next periodic save
    // (once the scene runs: a write in onCreate waits for the first save).
    this.#shared = new SharedViews(opts.shared ?? {}, opts.id, () => {
      if (this.#persistTimer === undefined) return;
      this.#soonSave ??= setTimeout(() => {
        this.#soonSave = undefined;
        if (!this.#disposed) this.persist(false);
      }, SHARED_SAVE_MS);
    });
    this.#builtins = new SceneBuiltins({
      scene: this,
      def: opts.def,
      payloads: rpcPayloads,
      players: this.#players,
      send: (sid, frame) => this.#out.send(FromScene.SEND, sid, 0, frame),
      service: this.#service,
      timers: () => this.#durable.size,
    });
    this.#replication = replicationFor(opts.protocol, opts.type, opts.def, {
      sceneId: opts.id,
      out: (type, sid, payload) => this.#out.send(type, sid, 0, payload),
      logger: opts.logger,
      present: (playerId) => this.#players.has(playerId),
    });
    const fresh = opts.state === null || opts.state === undefined;
    this.state = fresh ? opts.def.createState(opts.id) : opts.state;
    this.#saver = new SceneSaver({ out: opts.out, players: this.#players, durable: this.#durable, shared: this.#shared, savedJson: fresh ? null : JSON.stringify(opts.state) });
  }

  get players(): ReadonlyMap<string, Player<unknown, Record<string, unknown>>> {
    return this.#players;
  }

  markDirty(): void {
    this.#saver.markDirty();
  }

  get entities(): SceneEntities {
    if (this.#replication === null) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene type ${this.type} has no entities: declare them in the protocol's entities: section (docs/aoi.md)`);
    return this.#replication;
  }

  async create(persistIntervalMs: number, firstTick?: SceneTaskInput['firstTick']): Promise<void> {
    await this.#def.onCreate?.(this);
    this.#calls.started();
    this.#durable.start();
    if (!this.#service) {
      if (firstTick === undefined) this.#ticks.start();
      else this.#ticks.startInStep(firstTick.at, firstTick.players);
    }
    this.#persistTimer = setInterval(() => this.persist(false), persistIntervalMs);
    // The main thread enforces the scene's player cap (0: none) before a player is sent here, and
    // tells gateways when the scene takes fire-and-forget inputs (at its ticks on the grid, or as
    // they come). A grid of a fractional interval (1000 / 60) is not told: its inputs go at once.
    const atTick = !this.#service && this.#def.inputs === 'at-tick' && Number.isInteger(this.tickMs);
    const inputTickMs = atTick ? this.tickMs : 0;
    this.#out.send(FromScene.READY, 0, this.#def.maxPlayers ?? 0, encodeReadyPayload({ inputTickMs }));
  }

  // ---- records from the main thread ----

  join(sid: number, payload: JoinPayload): void {
    this.#roster.join(sid, payload);
  }

  /** The player of `sid` leaves (its socket closed, or `travelling`: it goes to another scene). */
  leave(sid: number, travelling = false): void {
    this.#roster.leave(sid, travelling);
  }

  logFor(playerId: string, event: string, fields?: Record<string, unknown>): void {
    this.#playerLogs.add(playerId, event, fields);
  }

  /** One of `player`'s durable timers is due (TimerFiring). */
  playerTimer(player: RuntimePlayer, timer: DurableTimer): void {
    this.#firing.player(player, timer);
  }

  /** The main thread gave up the travel of the player of `sid`: it stays, and its `travel()` rejects. */
  travelFailed(sid: number, code: string, message: string): void {
    const player = this.#bySid.get(sid);
    if (player !== undefined) this.#travels.fail(player.id, code, message);
  }

  frame(sid: number, bytes: Uint8Array): void {
    this.#requests.frame(sid, bytes);
  }

  // ---- the Scene API ----

  sendPush(sid: number, push: string, payload: unknown): void {
    this.#out.send(FromScene.SEND, sid, 0, this.#pushFrame(push, payload));
  }

  broadcast(push: string, payload: unknown): void {
    const frame = this.#pushFrame(push, payload);
    if (this.#players.size > 0) this.#out.send(FromScene.BROADCAST, 0, 0, frame);
  }

  sendTo(playerId: string, push: string, payload: unknown, options?: { readonly timeoutMs?: number }): Promise<boolean> {
    let frame: Uint8Array;
    try {
      frame = this.#pushFrame(push, payload);
    } catch (err) {
      return refused(err);
    }
    // In this scene: no need to ask anyone.
    if (this.#builtins.push(playerId, frame)) return Promise.resolve(true);
    return this.#calls.sendTo(playerId, frame, options?.timeoutMs);
  }

  #pushFrame(push: string, payload: unknown): Uint8Array {
    const def = this.#protocol.pushes[push];
    if (def === undefined) throw new CodedError(ErrorCodes.ENG_ERR_NO_HANDLER, `unknown push ${push}`);
    return encodeFrame(FrameKind.PUSH, def.id, 0, def.codec.encode(payload));
  }

  travel(player: RuntimePlayer, sceneId: string, arrival: unknown): Promise<void> {
    // The data it leaves with is what the target sees: handlers of this scene marked it already.
    const send = (to: string, arrivalJson: string): void => this.#out.send(FromScene.TRAVEL, player.sid, 0, encodeTravelPayload({ to, arrival: arrivalJson }));
    return this.#travels.request(player.id, this.#bySid.get(player.sid) === player, this.id, sceneId, arrival, send);
  }

  shared<V = unknown>(name: string): SharedTable<V> {
    return this.#shared.table(name) as SharedTable<V>;
  }

  /** Rows of a shared table from the main thread (ToScene.SHARED_DATA). */
  sharedData(data: SharedData): void {
    this.#shared.apply(data);
  }

  /** The shared tables this scene's copies are of (subscribed to before onCreate). */
  get sharedTables(): string[] {
    return this.#shared.names;
  }

  call<R = unknown>(target: string, message: string, payload?: unknown, options?: CallOptions | null): Promise<R> {
    return this.#calls.call(target, message, payload, options) as Promise<R>;
  }

  cast(target: string, message: string, payload?: unknown, options?: Pick<CallOptions, 'place'> | null): void {
    this.#calls.cast(target, message, payload, options);
  }

  /** A call (`id` > 0) or cast (`id` 0) from another scene (ToScene.CALL). */
  incomingCall(id: number, call: IncomingCall): void {
    this.#calls.incoming(id, call, this.#def, (handler: CallHandler, payload, from) => handler(this, payload, from), this.#builtins);
  }

  /** The answer to one of this scene's calls (ToScene.ANSWER). */
  callAnswered(id: number, answer: CallAnswer): void {
    this.#calls.answered(id, answer);
  }

  kick(sid: number, closeCode: number, reason: string): void {
    if (!Number.isInteger(closeCode) || closeCode < 4000 || closeCode > 4999) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `kick close code must be 4000–4999, got ${closeCode}`);
    }
    this.#out.send(FromScene.KICK, sid, closeCode, encoder.encode(reason));
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.#timers.setTimeout(fn, delayMs);
  }

  setInterval(fn: () => void, everyMs: number): TimerHandle {
    return this.#timers.setInterval(fn, everyMs);
  }

  // ---- tick, persistence, disposal ----

  /** When the scene's next tick is (or was, once stopped) due, ms since the epoch; undefined for a service. */
  get nextTickAt(): number | undefined {
    return this.#ticks.nextTickAt;
  }

  /** Call `fn` right after the next tick; false when none is coming within `withinMs` (a service, a first tick still waiting for its players, a long interval). */
  afterNextTick(fn: () => void, withinMs: number): boolean {
    return this.#ticks.afterNextTick(fn, withinMs);
  }

  #runTick(now: number, elapsed: number): void {
    this.tick++;
    this.#beforeTick?.();
    this.#builtins.runTickBoundary();
    this.#guard('onTick', () => this.#def.onTick?.(this, elapsed));
    const replication = this.#replication;
    const replicationMs = replication === null ? null : elapsedMs(() => this.#guard('entity replication', () => replication.flush(this.tick)));
    this.#tickStats.record(now, performance.now() - now, replicationMs);
  }

  /** Run game code whose errors must not end the scene: synchronous throws and rejected promises are logged. */
  #guard(what: string, fn: () => unknown): void {
    void guarded(this.logger, what, fn);
  }

  // ---- durable timers ----

  schedule(name: string, when: ScheduleAt, payload?: unknown): DurableTimer {
    return this.#durable.schedule(name, when, payload);
  }

  cancel(name: string): boolean {
    return this.#durable.cancel(name);
  }

  scheduled(name: string): DurableTimer | undefined {
    return this.#durable.get(name);
  }

  /** A durable timer is due: its removal is saved with the state its handler leaves (the state is marked). */
  /** Save what changed (SceneSaver); `final` marks the last save of a stop. */
  persist(final: boolean): void {
    this.#saver.save(this.state, final);
  }

  /** Stop: a service's handler at work gets {@link STOP_GRACE_MS} to finish, then onDispose (terminate) and the final save. */
  async stop(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#ticks.stop();
    clearInterval(this.#persistTimer);
    clearTimeout(this.#soonSave);
    // No more firings; a handler finishing in the grace below may still schedule (saved at the final save).
    this.#durable.stop();
    for (const player of this.#players.values()) player.timers.stop();
    await this.#calls.quiesce(STOP_GRACE_MS);
    this.#timers.clearAll();
    this.#travels.stopAll(this.id);
    this.#guard('onDispose', () => this.#def.onDispose?.(this));
    this.#calls.stopAll();
    this.persist(true);
    this.#playerLogs.flush();
    this.#out.send(FromScene.STOPPED, 0, 0, null);
    this.#out.flush();
  }
}
