/**
 * Calls and casts between scenes (`scene.call`, `scene.cast`), the engine's main thread's part:
 * a scene's CALL record is delivered to its target scene as a ToScene.CALL, and the target's
 * ANSWER goes back to the caller as a ToScene.ANSWER. The target is found through placement and
 * placed on demand (unless the call says not to) and started like any scene. Calls and casts
 * from one scene to another are delivered in the order they were made.
 *
 * Not built yet: targets on another engine (refused with `ENG_ERR_NOT_PLACED`, naming the
 * engine), which need an engine-to-engine channel (issue 12, part 2).
 */
import { CodedError, ErrorCodes, isCodedError } from '@gos/schema';
import type { EngineContext } from './engine-context.js';
import { ToScene, encodeCallAnswer, encodeIncomingCall, type CallAnswer, type OutgoingCall } from './records.js';
import type { SceneHost } from './scene-host.js';
import type { Scenes } from './scenes.js';

/** How long past the caller's own timeout the way back for an answer is kept. */
const ANSWER_GRACE_MS = 1000;

interface Waiting {
  readonly reply: (answer: CallAnswer) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export class CallRouter {
  readonly #ctx: EngineContext;
  readonly #scenes: Scenes;
  /** Calls delivered and not answered yet: their id here → the way back to the caller. */
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  /** Per caller and target, the delivery under way: the next one waits for it (order). */
  readonly #queues = new Map<string, Promise<void>>();

  constructor(ctx: EngineContext, scenes: Scenes) {
    this.#ctx = ctx;
    this.#scenes = scenes;
  }

  /** Calls waiting for an answer (metrics, tests). */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Scene `host` calls (`callId` > 0) or casts (`callId` 0). */
  outgoing(host: SceneHost, callId: number, call: OutgoingCall): void {
    const reply =
      callId === 0
        ? null
        : (answer: CallAnswer): void => {
            try {
              host.send(ToScene.ANSWER, 0, encodeCallAnswer(answer), true, callId);
            } catch (err) {
              this.#ctx.log.warn({ err, sceneId: host.sceneId, to: call.to, message: call.message }, 'cannot give a scene its answer');
            }
          };
    const key = `${host.sceneId}\u0000${call.to}`;
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.#deliver(host.sceneId, call, reply));
    this.#queues.set(key, next);
    void next.then(() => {
      if (this.#queues.get(key) === next) this.#queues.delete(key);
    });
  }

  /** Scene `host` answered the call it knows as `id`. */
  answered(id: number, answer: CallAnswer): void {
    const waiting = this.#waiting.get(id);
    if (waiting === undefined) return; // after the caller's timeout
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    waiting.reply(answer);
  }

  /** Never rejects: what cannot be delivered is answered with its code (a cast's is logged). */
  async #deliver(from: string, call: OutgoingCall, reply: ((answer: CallAnswer) => void) | null): Promise<void> {
    try {
      const target = await this.#target(call.to, call.place);
      const id = reply === null ? 0 : this.#register(reply, call.timeoutMs);
      try {
        target.send(ToScene.CALL, 0, encodeIncomingCall({ from, message: call.message, payload: call.payload }), true, id);
      } catch (err) {
        if (id !== 0) this.answered(id, errorAnswer(err));
        else throw err;
      }
    } catch (err) {
      if (reply !== null) reply(errorAnswer(err));
      else this.#ctx.log.warn({ err, from, to: call.to, message: call.message }, 'cast not delivered');
    }
  }

  /** The target scene on this engine: placed (on demand unless `place` is false) and started. */
  async #target(sceneId: string, place: boolean): Promise<SceneHost> {
    const { o } = this.#ctx;
    const { placement } = o.coordinator;
    let record = placement.lookup(sceneId) ?? (await placement.fetch(sceneId));
    if (record === undefined) {
      if (!place) throw new CodedError(ErrorCodes.ENG_ERR_NOT_PLACED, `scene ${sceneId} is placed nowhere`);
      record = await placement.ensure(sceneId);
    }
    if (record.engineId !== o.engineId) {
      throw new CodedError(ErrorCodes.ENG_ERR_NOT_PLACED, `scene ${sceneId} runs on ${record.engineId}: calls between engines are not built yet`);
    }
    const running = this.#scenes.running(sceneId);
    if (running !== undefined) return running;
    await this.#scenes.withdrawIdle(sceneId);
    return this.#scenes.obtain(sceneId, record.epoch);
  }

  #register(reply: (answer: CallAnswer) => void, timeoutMs: number): number {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
    const timer = setTimeout(() => this.#waiting.delete(id), timeoutMs + ANSWER_GRACE_MS);
    timer.unref();
    this.#waiting.set(id, { reply, timer });
    return id;
  }
}

function errorAnswer(err: unknown): CallAnswer {
  return isCodedError(err) ? { ok: false, code: err.code, message: err.message } : { ok: false, code: ErrorCodes.ENG_ERR_HANDLER_FAILED, message: 'the call could not be delivered' };
}
