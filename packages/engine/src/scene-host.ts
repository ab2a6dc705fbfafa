import type { SharedChanges, TimerChanges } from './records.js';
import type { Piscina } from 'piscina';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import { Outbox } from './outbox.js';
import { SceneSids } from './scene-sids.js';
import type { GatewayPeer } from '@gos/link';
import { createRingPair, RingReader } from './ring/index.js';
import { STOP_AT_TICK, ToScene, decodeSceneTaskResult, encodeCallAnswer, type CallAnswer, type SceneTaskInput, type SceneTaskResult } from './records.js';

export type RecordHandler = (type: number, sid: number, value: number, payload: Uint8Array) => void;

/** Thread wake-ups between the main thread and scenes: one per `Atomics.notify` of a sleeping side. */
export interface Wakeups {
  /** The scene's thread woken by records from the main thread. */
  readonly toScene: number;
  /** The main thread woken by records from the scene. */
  readonly fromScene: number;
}

/** The engine's wake-up totals: what the scenes that ended left, and the running ones' so far. */
export class WakeupTotals {
  #ended = { toScene: 0, fromScene: 0 };

  /** Add the final counts of a scene whose task ended. */
  add(w: Wakeups): void {
    this.#ended = { toScene: this.#ended.toScene + w.toScene, fromScene: this.#ended.fromScene + w.fromScene };
  }

  /** Totals since the engine started: ended scenes and `running` ones. */
  total(running: Iterable<SceneHost>): Wakeups {
    let { toScene, fromScene } = this.#ended;
    for (const host of running) {
      const w = host.wakeups();
      toScene += w.toScene;
      fromScene += w.fromScene;
    }
    return { toScene, fromScene };
  }
}

const NO_WAKEUPS: Wakeups = { toScene: 0, fromScene: 0 };

/**
 * The main thread's side of one scene: its pair of rings, the piscina task running it, and the
 * loop reading what the scene writes. The engine owns the routing; this class owns the plumbing.
 */
export class SceneHost {
  readonly sceneId: string;
  readonly sceneType: string;
  /** Epoch of the placement it serves; raised when the scene is placed here again while it runs. */
  epoch: number;
  /**
   * The engine's running instance of its scene: true from when the engine routes the scene's
   * players to it until it takes it out (the scene stops, crashes, or failed to start). A
   * player's frame lane writes here only while this holds (FrameLanes).
   */
  current = false;
  /** The players in this scene (engine-local connection ids) and the gateways they came through. */
  readonly sids = new SceneSids<GatewayPeer>();
  /** The scene type's player cap (`maxPlayers`; 0: none), known once READY. */
  maxPlayers = 0;
  /** Its tick interval when it takes fire-and-forget inputs at its ticks, told to gateways with JOINED (ReadyPayload); 0 until READY, and for a scene that takes them as they come. */
  inputTickMs = 0;
  /** Travel targets reserved here (JOIN with `reserve`) and not joined yet: they count against the cap. */
  reserved = 0;
  /** Timer changes (SAVE_TIMERS) waiting for the SAVE_SCENE they go with. */
  stagedTimers: TimerChanges[] = [];
  /** Shared-table writes (SAVE_SHARED) waiting for the SAVE_SCENE they go with. */
  stagedShared: SharedChanges[] = [];

  /**
   * The thread time its ticks took between its last two STATS records, in threads (0.2: a
   * fifth of one thread): what moving it would move, for rebalancing by thread utilisation.
   */
  tickCost = 0;
  #lastStatsAt = performance.now();

  /** A STATS record: `tickMs` of ticks since the last one. */
  noteTicks(tickMs: number, now = performance.now()): void {
    const span = now - this.#lastStatsAt;
    this.#lastStatsAt = now;
    if (span > 0) this.tickCost = Math.min(1, tickMs / span);
  }

  /** Whether one more player would pass the scene's cap. */
  get full(): boolean {
    return this.maxPlayers > 0 && this.sids.size + this.reserved >= this.maxPlayers;
  }
  readonly logger: Logger;
  /** Resolves when onCreate has run in the worker (READY), rejects if the task fails first. */
  readonly ready: Promise<void>;
  /** Settles when the worker task ends: resolved after STOP, rejected on a crash. */
  readonly done: Promise<SceneTaskResult>;
  #out: Outbox;
  #reader: RingReader;
  readonly #totals: WakeupTotals;
  #ended = false;
  /** Ends the read loop; aborting wakes its sleep at once. */
  readonly #stopReading = new AbortController();
  #markReady!: () => void;

  constructor(opts: {
    pool: Piscina;
    input: Omit<SceneTaskInput, 'toScene' | 'fromScene'>;
    epoch: number;
    ringBytes: number;
    /** When frames written to the scene are published (EngineOptions.ringFlush). */
    ringFlush: 'microtask' | 'immediate';
    onRecord: RecordHandler;
    logger: Logger;
    /** Where the scene's wake-up counts go when its task ends. */
    wakeups: WakeupTotals;
  }) {
    this.sceneId = opts.input.sceneId;
    this.sceneType = opts.input.sceneType;
    this.epoch = opts.epoch;
    this.logger = opts.logger;
    const rings = createRingPair(opts.ringBytes);
    // A client's input to a scene that drains them at its tick wakes nobody: published as it is
    // written, with no flush task per event-loop turn.
    this.#out = new Outbox(rings.toWorker, 16 * 1024 * 1024, opts.ringFlush, 'at-once');
    // The main thread's servers keep its event loop alive: no keep-alive timer per sleep.
    this.#reader = new RingReader(rings.fromWorker, { keepAlive: false });
    this.#totals = opts.wakeups;
    let failReady!: (err: unknown) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve;
      failReady = reject;
    });
    // A rejection of `ready` is also seen through `done`; do not report it twice.
    this.ready.catch(() => {});
    const input: SceneTaskInput = { ...opts.input, toScene: rings.toWorker, fromScene: rings.fromWorker };
    this.done = (opts.pool.run(input) as Promise<unknown>).then(
      (value) => {
        this.#drainOnce(opts.onRecord);
        this.#stopReading.abort();
        this.#end();
        const result = decodeSceneTaskResult(value);
        if (result.failed === undefined) return result;
        // The scene did not start: `ready` rejects with the scene's own code, as does `done`.
        const err = new CodedError(result.failed.code, result.failed.message);
        failReady(err);
        throw err;
      },
      (err: unknown) => {
        // What the scene published before it died (an answer, a save) is read, not dropped with it.
        try {
          this.#drainOnce(opts.onRecord);
        } catch (drainErr) {
          opts.logger.error({ err: drainErr, sceneId: opts.input.sceneId }, 'cannot read what the crashed scene wrote last');
        }
        this.#stopReading.abort();
        this.#end();
        failReady(err);
        throw err;
      },
    );
    void this.#readLoop(opts.onRecord);
  }

  /** Bytes of records waiting for the scene: its inbound ring and that ring's overflow. */
  get queuedBytes(): number {
    return this.#out.usedBytes;
  }

  /** Called by the engine when the scene reports READY. */
  markReady(): void {
    this.#markReady();
  }

  /**
   * Write a record for the scene. A record that is not `urgent` (a client's fire-and-forget
   * input) does not wake a scene that drains its inputs at its tick; it waits for that tick.
   */
  send(type: number, sid: number, payload: Uint8Array | null, urgent = true, value = 0): void {
    this.#out.send(type, sid, value, payload, urgent);
  }

  /**
   * Give the scene the outcome of its request `callId` (a call, a push, a service operation) as
   * ToScene.ANSWER. A scene that has stopped cannot take it: logged with `about`, and dropped.
   */
  answer(callId: number, answer: CallAnswer, log: Logger, about: Record<string, unknown>): void {
    try {
      this.send(ToScene.ANSWER, 0, encodeCallAnswer(answer), true, callId);
    } catch (err) {
      log.warn({ err, sceneId: this.sceneId, ...about }, 'cannot give a scene the outcome of its request');
    }
  }

  /**
   * Wake-ups so far (`Atomics.notify` of a sleeping thread): of the scene by this thread's
   * records, and of this thread by the scene's. Zero once the task has ended: its counts have
   * gone to the engine's {@link WakeupTotals}.
   */
  wakeups(): Wakeups {
    if (this.#ended) return NO_WAKEUPS;
    return { toScene: this.#out.stats().consumerWakeups, fromScene: this.#reader.stats().consumerWakeups };
  }

  /** The task has ended (or was abandoned): hand its wake-up counts to the engine's totals, once. */
  #end(): void {
    if (this.#ended) return;
    this.#totals.add(this.wakeups());
    this.#ended = true;
  }

  /**
   * Ask the scene to persist everything and dispose (`atTick`: right after its next tick, for a
   * live move); resolves when the task has ended.
   */
  async stop(atTick = false): Promise<void> {
    this.#out.send(ToScene.STOP, 0, atTick ? STOP_AT_TICK : 0, null);
    try {
      await this.done;
    } catch {
      // A scene that crashed while stopping has nothing more to say.
    }
    this.#out.close();
  }

  /** Forget the task (after a crash): stop reading its ring. */
  abandon(): void {
    this.#stopReading.abort();
    this.#end();
    this.#out.close();
  }

  #drainOnce(onRecord: RecordHandler): void {
    this.#reader.drain(onRecord);
  }

  async #readLoop(onRecord: RecordHandler): Promise<void> {
    // Never read inside the constructor: a warm worker can write READY into the shared ring
    // before `pool.run` returns, and the engine's handler needs the constructed host.
    await Promise.resolve();
    // Sleeps without a timeout (no timer set and cleared per wake-up); stopping aborts the sleep.
    await this.#reader.startReadLoop(onRecord, { signal: this.#stopReading.signal, idleTimeoutMs: Infinity });
  }
}

/** The refusal of a player past a scene's cap (`maxPlayers`). */
export function sceneFull(host: Pick<SceneHost, 'sceneId' | 'maxPlayers'>): CodedError {
  return new CodedError(ErrorCodes.ENG_ERR_FULL, `scene ${host.sceneId} is full (maxPlayers ${host.maxPlayers})`);
}
