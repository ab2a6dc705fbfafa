/**
 * Calls and casts between scenes (`scene.call`, `scene.cast`), the engine's main thread's part:
 * a scene's CALL record is delivered to its target scene as a ToScene.CALL, and the target's
 * ANSWER goes back to the caller as a ToScene.ANSWER. The target is found through placement and
 * placed on demand (unless the call says not to). On this engine it is started like any scene;
 * on another, the call goes over this engine's link to it (EnginePeers, `EngineToEngine.CALL`)
 * and the answer comes back on the same link. Calls and casts from one scene to another are
 * delivered in the order they were made (one queue per caller and target, on both engines).
 */
import { CodedError, ErrorCodes, isCodedError } from '@gos/schema';
import { EngineToEngine, encodeAnswerBody, encodeCallBody, type AnswerBody, type CallBody, type GatewayPeer } from '@gos/link';
import type { EnginePeers } from './engine-peers.js';
import { OrderedQueues } from './ordered-queues.js';
import { ADMIN_MESSAGES } from './admin.js';
import type { EngineContext } from './engine-context.js';
import { NO_START_MESSAGES, PUSH_MESSAGE, ToScene, encodeIncomingCall, type CallAnswer, type OutgoingCall } from './records.js';
import type { SceneHost } from './scene-host.js';
import type { Scenes } from './scenes.js';

/** How long past the caller's own timeout the way back for an answer is kept. */
const ANSWER_GRACE_MS = 1000;

interface Waiting {
  readonly reply: (answer: CallAnswer) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  /** The engine the call went to, when not this one: its link going down answers the call. */
  readonly engineId: string | null;
  /** The scene of this engine it went to: that scene ending (crash, stop) answers the call. */
  readonly target: SceneHost | null;
}

/**
 * Deliveries that may wait behind one another from one scene to another (a target that is slow
 * to place or start): past that, calls are refused with `ENG_ERR_QUEUE_FULL` and casts dropped.
 */
const MAX_QUEUED = 1024;

/** The longest a timer can wait (Node clamps longer ones to 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class CallRouter {
  readonly #ctx: EngineContext;
  readonly #scenes: Scenes;
  /** Calls delivered and not answered yet: their id here → the way back to the caller. */
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  /** Per caller and target, the delivery under way: the next one waits for it (order). `deliver` never rejects; should it, the fault is logged. */
  readonly #queues: OrderedQueues;
  /** sceneId → when a call or cast was last delivered to it here: such a scene is not idle. */
  readonly #lastDelivery = new Map<string, number>();

  readonly #peers: Pick<EnginePeers, 'connect'>;
  readonly #verifyAdmin: (to: string, message: string, payloadJson: string) => boolean;

  constructor(ctx: EngineContext, scenes: Scenes, peers: Pick<EnginePeers, 'connect'>, verifyAdmin: (to: string, message: string, payloadJson: string) => boolean) {
    this.#ctx = ctx;
    this.#scenes = scenes;
    this.#peers = peers;
    this.#verifyAdmin = verifyAdmin;
    this.#queues = new OrderedQueues(MAX_QUEUED, (err, key) => ctx.log.error({ err, queue: key.replace('\u0000', ' → ') }, 'call delivery failed'));
  }

  /** Calls waiting for an answer, and deliveries queued (tests: both go back to 0). */
  get pending(): { readonly waiting: number; readonly queues: number } {
    return { waiting: this.#waiting.size, queues: this.#queues.size };
  }

  /** Whether `sceneId` had a call or cast delivered within `ms`, or has calls waiting on it: it is in use. */
  inUse(sceneId: string, ms: number): boolean {
    const at = this.#lastDelivery.get(sceneId);
    if (at !== undefined && performance.now() - at < ms) return true;
    if (at !== undefined) this.#lastDelivery.delete(sceneId);
    for (const waiting of this.#waiting.values()) if (waiting.target?.sceneId === sceneId) return true;
    return false;
  }

  /** Scene `host` of this engine ended (crashed, stopped): the calls it had not answered are answered (retryable). */
  sceneEnded(host: SceneHost): void {
    for (const [id, waiting] of [...this.#waiting]) {
      if (waiting.target === host) this.answered(id, { ok: false, code: ErrorCodes.ENG_ERR_SCENE_MOVED, message: `scene ${host.sceneId} stopped before answering; retry` });
    }
  }

  /** Scene `host` calls (`callId` > 0) or casts (`callId` 0). */
  outgoing(host: SceneHost, callId: number, call: OutgoingCall): void {
    const reply =
      callId === 0
        ? null
        : (answer: CallAnswer): void => host.answer(callId, answer, this.#ctx.log, { to: call.to, message: call.message });
    const deadline = callId === 0 ? Infinity : performance.now() + call.timeoutMs;
    if (!this.#enqueue(host.sceneId, call.to, () => this.#deliver(host.sceneId, call, reply, deadline))) {
      const refusal = { ok: false as const, code: ErrorCodes.ENG_ERR_QUEUE_FULL, message: `more than ${MAX_QUEUED} calls from ${host.sceneId} to ${call.to} wait to be delivered` };
      if (reply !== null) reply(refusal);
      else this.#ctx.log.warn({ from: host.sceneId, to: call.to, message: call.message }, `cast dropped: ${refusal.message}`);
    }
  }

  /**
   * Deliver `call` from scene `from` for the engine itself (a push for a player, sendTo): its
   * answer, a coded refusal, or `ENG_ERR_CALL_TIMEOUT` after `call.timeoutMs`. Never rejects.
   */
  request(from: string, call: OutgoingCall): Promise<CallAnswer> {
    return new Promise<CallAnswer>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, code: ErrorCodes.ENG_ERR_CALL_TIMEOUT, message: `${call.to} did not answer ${call.message} within ${call.timeoutMs} ms` }), call.timeoutMs);
      const reply = (answer: CallAnswer): void => {
        clearTimeout(timer);
        resolve(answer);
      };
      const deadline = performance.now() + call.timeoutMs;
      if (!this.#enqueue(from, call.to, () => this.#deliver(from, call, reply, deadline))) {
        reply({ ok: false, code: ErrorCodes.ENG_ERR_QUEUE_FULL, message: `more than ${MAX_QUEUED} calls from ${from} to ${call.to} wait to be delivered` });
      }
    });
  }

  /** A CALL from another engine (a peer of this engine's link server): for a scene here; answered on that link. */
  incoming(peer: GatewayPeer, channel: number, body: CallBody): void {
    // A REPL message must prove an admin credential of this engine: knowing the cluster secret is not enough.
    if (ADMIN_MESSAGES.has(body.message) && !this.#verifyAdmin(body.to, body.message, body.payload)) {
      this.#ctx.log.warn({ from: body.from, peer: peer.nodeId, message: body.message }, 'admin message from another engine refused: no valid credential proof');
      if (!body.cast) {
        try {
          peer.send(EngineToEngine.ANSWER, channel, encodeAnswerBody({ ok: false, result: '', code: ErrorCodes.ENG_ERR_ADMIN_DENIED, message: 'no valid admin credential proof' }));
        } catch (err) {
          this.#ctx.log.warn({ err }, 'cannot answer a refused admin message');
        }
      }
      return;
    }
    const reply = body.cast
      ? null
      : (answer: CallAnswer): void => {
          try {
            peer.send(EngineToEngine.ANSWER, channel, encodeAnswerBody(answer.ok ? { ok: true, result: answer.result, code: '', message: '' } : { ok: false, result: '', code: answer.code, message: answer.message }));
          } catch (err) {
            this.#ctx.log.warn({ err, from: body.from, to: body.to }, 'cannot send an answer back to the calling engine');
          }
        };
    const timeoutMs = Math.min(body.timeoutMs, MAX_TIMER_MS - ANSWER_GRACE_MS);
    const call: OutgoingCall = { to: body.to, message: body.message, payload: body.payload, place: false, timeoutMs };
    const deadline = body.cast ? Infinity : performance.now() + timeoutMs;
    if (!this.#enqueue(body.from, body.to, () => this.#deliver(body.from, call, reply, deadline, true))) {
      reply?.({ ok: false, code: ErrorCodes.ENG_ERR_QUEUE_FULL, message: `more than ${MAX_QUEUED} calls from ${body.from} to ${body.to} wait to be delivered` });
    }
  }

  /** An ANSWER from `engineId` to the call this engine knows as `id`. */
  remoteAnswered(engineId: string, id: number, body: AnswerBody): void {
    if (this.#waiting.get(id)?.engineId !== engineId) return;
    this.answered(id, body.ok ? { ok: true, result: body.result } : { ok: false, code: body.code, message: body.message });
  }

  /** The link to `engineId` went down: the calls waiting on it get no answer from there. */
  linkDown(engineId: string): void {
    for (const [id, waiting] of [...this.#waiting]) {
      if (waiting.engineId === engineId) this.answered(id, { ok: false, code: ErrorCodes.LNK_ERR_CLOSED, message: `the link to engine ${engineId} went down before the answer` });
    }
  }

  /** Queue a delivery behind the others from `from` to `to`; false (nothing queued) past MAX_QUEUED waiting. */
  #enqueue(from: string, to: string, deliver: () => Promise<void>): boolean {
    return this.#queues.push(`${from}\u0000${to}`, deliver);
  }

  /** Scene `host` answered the call it knows as `id`. */
  answered(id: number, answer: CallAnswer): void {
    const waiting = this.#waiting.get(id);
    if (waiting === undefined) return; // after the caller's timeout
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    waiting.reply(answer);
  }

  /**
   * Never rejects: what cannot be delivered is answered with its code (a cast's is logged).
   * `here`: the call came from another engine, so the target must be on this one.
   */
  async #deliver(from: string, call: OutgoingCall, reply: ((answer: CallAnswer) => void) | null, deadline: number, here = false): Promise<void> {
    // Its caller gave up while it waited in the queue: not delivered (it would run unasked).
    if (performance.now() >= deadline) return;
    // A push for a player (sendTo) never starts its scene: a scene not running has no player;
    // nor does the REPL's inspect or eval, which are about a scene that runs.
    const noStart = NO_START_MESSAGES.has(call.message);
    try {
      const target = await this.#target(call.to, call.place, here, !noStart);
      if (target === null) {
        reply?.(call.message === PUSH_MESSAGE ? { ok: true, result: 'false' } : { ok: false, code: ErrorCodes.ENG_ERR_NOT_PLACED, message: `${call.to} is not running` });
        return;
      }
      if (performance.now() >= deadline) return;
      // What is left of the caller's time.
      const remaining: OutgoingCall = deadline === Infinity ? call : { ...call, timeoutMs: Math.max(1, Math.floor(deadline - performance.now())) };
      if (typeof target === 'string') return await this.#deliverTo(target, from, remaining, reply, deadline);
      // A push (or a look from the REPL) does not keep an empty scene from being idle.
      if (!noStart) this.#lastDelivery.set(target.sceneId, performance.now());
      const id = reply === null ? 0 : this.#register(reply, remaining.timeoutMs, null, target);
      try {
        target.send(ToScene.CALL, 0, encodeIncomingCall({ from, message: call.message, payload: call.payload, timeoutMs: id === 0 ? 0 : remaining.timeoutMs }), true, id);
      } catch (err) {
        if (id !== 0) this.answered(id, errorAnswer(err));
        else throw err;
      }
    } catch (err) {
      if (reply !== null) reply(errorAnswer(err));
      else this.#ctx.log.warn({ err, from, to: call.to, message: call.message }, 'cast not delivered');
    }
  }

  /** The call goes to the engine `engineId` hosting its target, over this engine's link to it. */
  async #deliverTo(engineId: string, from: string, call: OutgoingCall, reply: ((answer: CallAnswer) => void) | null, deadline: number): Promise<void> {
    const link = await this.#peers.connect(engineId);
    // The link may have taken a while: a caller that gave up meanwhile is not delivered.
    if (performance.now() >= deadline) return;
    if (deadline !== Infinity) call = { ...call, timeoutMs: Math.max(1, Math.floor(deadline - performance.now())) };
    const id = reply === null ? 0 : this.#register(reply, call.timeoutMs, engineId, null);
    try {
      link.send(EngineToEngine.CALL, id, encodeCallBody({ to: call.to, from, message: call.message, payload: call.payload, cast: reply === null, timeoutMs: call.timeoutMs }));
    } catch (err) {
      if (id !== 0) this.answered(id, errorAnswer(err));
      else throw err;
    }
  }

  /**
   * The target scene, started, when it is placed on this engine (on demand unless `place` is
   * false), or the id of the engine it is placed on. `here`: it must be on this engine (a call
   * from another engine that found it here): elsewhere, it moved (`ENG_ERR_SCENE_MOVED`).
   * `start` false: a scene placed here but not running is not started (null).
   */
  async #target(sceneId: string, place: boolean, here: boolean, start = true): Promise<SceneHost | string | null> {
    const { o } = this.#ctx;
    const { placement } = o.coordinator;
    let record = placement.lookup(sceneId);
    // The view may lag: ask the coordinator itself when it says nothing (or, for a call another
    // engine sent here, when it names another engine).
    if (record === undefined || (here && record.engineId !== o.engineId)) record = await placement.fetch(sceneId);
    if (record !== undefined && record.engineId !== o.engineId) {
      if (here) throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${sceneId} is not on ${o.engineId} (any more); retry`);
      return record.engineId;
    }
    if (record === undefined) {
      // Released since the caller's engine looked (idle, say): placed again by the caller's retry.
      if (here) throw new CodedError(ErrorCodes.ENG_ERR_SCENE_MOVED, `scene ${sceneId} is placed nowhere now; retry`);
      if (!place) throw new CodedError(ErrorCodes.ENG_ERR_NOT_PLACED, `scene ${sceneId} is placed nowhere`);
      record = await placement.ensure(sceneId);
      if (record.engineId !== o.engineId) return record.engineId;
    }
    const running = this.#scenes.running(sceneId);
    if (running !== undefined) {
      // Still starting: a call into a scene whose onCreate fails would wait in a dead ring.
      await running.ready;
      return running;
    }
    if (!start) return null;
    await this.#scenes.withdrawIdle(sceneId);
    return this.#scenes.obtain(sceneId, record.epoch);
  }

  #register(reply: (answer: CallAnswer) => void, timeoutMs: number, engineId: string | null, target: SceneHost | null): number {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
    const timer = setTimeout(() => this.#waiting.delete(id), Math.min(MAX_TIMER_MS, timeoutMs + ANSWER_GRACE_MS));
    timer.unref();
    this.#waiting.set(id, { reply, timer, engineId, target });
    return id;
  }
}

function errorAnswer(err: unknown): CallAnswer {
  return isCodedError(err) ? { ok: false, code: err.code, message: err.message } : { ok: false, code: ErrorCodes.ENG_ERR_HANDLER_FAILED, message: 'the call could not be delivered' };
}
