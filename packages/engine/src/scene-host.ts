import type { Piscina } from 'piscina';
import type { Logger } from '@gos/schema';
import { Outbox } from './outbox.js';
import { createRingPair, RingReader } from './ring/index.js';
import { ToScene, type SceneTaskInput, type SceneTaskResult } from './records.js';

export type RecordHandler = (type: number, a: number, b: number, payload: Uint8Array) => void;

/**
 * The main thread's side of one scene: its pair of rings, the piscina task running it, and the
 * loop reading what the scene writes. The engine owns the routing; this class owns the plumbing.
 */
export class SceneHost {
  readonly sceneId: string;
  readonly sceneType: string;
  /** Epoch of the placement it serves; raised when the scene is placed here again while it runs. */
  epoch: number;
  /** Engine-local connection ids of the players in this scene. */
  readonly sids = new Set<number>();
  readonly logger: Logger;
  /** Resolves when onCreate has run in the worker (READY), rejects if the task fails first. */
  readonly ready: Promise<void>;
  /** Settles when the worker task ends: resolved after STOP, rejected on a crash. */
  readonly done: Promise<SceneTaskResult>;
  #out: Outbox;
  #reader: RingReader;
  /** Ends the read loop; aborting wakes its sleep at once. */
  readonly #stopReading = new AbortController();
  #markReady!: () => void;

  constructor(opts: {
    pool: Piscina;
    input: Omit<SceneTaskInput, 'toScene' | 'fromScene'>;
    epoch: number;
    ringBytes: number;
    onRecord: RecordHandler;
    logger: Logger;
  }) {
    this.sceneId = opts.input.sceneId;
    this.sceneType = opts.input.sceneType;
    this.epoch = opts.epoch;
    this.logger = opts.logger;
    const rings = createRingPair(opts.ringBytes);
    this.#out = new Outbox(rings.toWorker, 16 * 1024 * 1024);
    // The main thread's servers keep its event loop alive: no keep-alive timer per sleep.
    this.#reader = new RingReader(rings.fromWorker, { keepAlive: false });
    let failReady!: (err: unknown) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve;
      failReady = reject;
    });
    // A rejection of `ready` is also seen through `done`; do not report it twice.
    this.ready.catch(() => {});
    const input: SceneTaskInput = { ...opts.input, toScene: rings.toWorker, fromScene: rings.fromWorker };
    this.done = (opts.pool.run(input) as Promise<SceneTaskResult>).then(
      (result) => {
        this.#drainOnce(opts.onRecord);
        this.#stopReading.abort();
        return result;
      },
      (err: unknown) => {
        this.#stopReading.abort();
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

  send(type: number, a: number, payload: Uint8Array | null): void {
    this.#out.send(type, a, 0, payload);
  }

  /** Ask the scene to persist everything and dispose; resolves when the task has ended. */
  async stop(): Promise<void> {
    this.#out.send(ToScene.STOP, 0, 0, null);
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
