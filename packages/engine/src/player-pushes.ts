/**
 * Pushes to a player wherever it plays (`scene.sendTo`), the engine main thread's part: find the
 * player's scene (this engine's seats first, then the presence store the gateways keep with the
 * sessions) and deliver the push there as a {@link PUSH_MESSAGE} call, over the call routes
 * (CallRouter: any engine, in order per caller and target). That scene's thread hands the push to
 * the player's connection, or answers that the player is not there; then the player is looked up
 * again once (it may have travelled) before it counts as offline.
 */
import { CodedError, ErrorCodes, isCodedError } from '@gos/schema';
import type { CallRouter } from './calls.js';
import type { EngineContext } from './engine-context.js';
import { OrderedQueues } from './ordered-queues.js';
import { PUSH_MESSAGE, encodePlayerPush, type CallAnswer, type PlayerPush } from './records.js';
import type { SceneHost } from './scene-host.js';

/** Where a player plays, as the gateways record it with its session (`SessionStore.locate` of @gos/gateway fits). */
export interface PlayerLocator {
  /** The scene of the player's live session, or null when it has none. */
  locate(playerId: string): Promise<{ readonly sceneId: string } | null>;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** Pushes that may wait behind one another from one scene to one player. */
const MAX_QUEUED = 1024;
/** Scenes tried for one push: the one the player was found in, and where it went since. */
const MAX_ATTEMPTS = 3;
/** Answers after which the player is looked up again: its scene moved or stopped meanwhile. */
const LOOK_AGAIN = new Set<string>([ErrorCodes.ENG_ERR_NOT_PLACED, ErrorCodes.ENG_ERR_SCENE_MOVED, ErrorCodes.LNK_ERR_CLOSED, ErrorCodes.LNK_ERR_NOT_CONNECTED]);
const OFFLINE: CallAnswer = Object.freeze({ ok: true, result: 'false' });

export class PlayerPushes {
  readonly #ctx: EngineContext;
  readonly #calls: Pick<CallRouter, 'request'>;
  readonly #presence: PlayerLocator | null;
  readonly #queues: OrderedQueues;

  constructor(ctx: EngineContext, calls: Pick<CallRouter, 'request'>, presence: PlayerLocator | null) {
    this.#ctx = ctx;
    this.#calls = calls;
    this.#presence = presence;
    this.#queues = new OrderedQueues(MAX_QUEUED, (err) => ctx.log.error({ err }, 'push delivery failed'));
  }

  /** Pushes under way, by sender and player (tests: back to 0). */
  get pending(): number {
    return this.#queues.size;
  }

  /** Scene `host` sends `push` (FromScene.SEND_TO, its call id `callId`): answered with true (delivered) or false (offline). */
  outgoing(host: SceneHost, callId: number, push: PlayerPush): void {
    const reply = (answer: CallAnswer): void => host.answer(callId, answer, this.#ctx.log, { playerId: push.playerId });
    const from = host.sceneId;
    // From when the scene sent it: time spent waiting behind earlier pushes counts.
    const deadline = performance.now() + (push.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const queued = this.#queues.push(`${from}\u0000${push.playerId}`, async () => reply(await this.#deliver(from, push, deadline)));
    if (!queued) reply({ ok: false, code: ErrorCodes.ENG_ERR_QUEUE_FULL, message: `more than ${MAX_QUEUED} pushes from ${from} to player ${push.playerId} wait to be delivered` });
  }

  /**
   * The engine itself pushes `frame` to player `playerId` wherever it plays (a core push such as
   * MailArrived): nobody waits for the outcome; an offline player simply misses it.
   */
  notify(from: string, playerId: string, frame: Uint8Array, timeoutMs = DEFAULT_TIMEOUT_MS): void {
    const push: PlayerPush = { playerId, frame: Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64') };
    const deadline = performance.now() + timeoutMs;
    const queued = this.#queues.push(`${from}\u0000${playerId}`, async () => {
      const answer = await this.#deliver(from, push, deadline);
      if (!answer.ok) this.#ctx.log.debug({ playerId, code: answer.code }, 'engine push not delivered');
    });
    if (!queued) this.#ctx.log.warn({ playerId, from }, `engine push dropped: more than ${MAX_QUEUED} wait for this player`);
  }

  /** Never rejects. */
  async #deliver(from: string, push: PlayerPush, deadline: number): Promise<CallAnswer> {
    const payload = encodePlayerPush({ playerId: push.playerId, frame: push.frame });
    let tried: string | null = null;
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const sceneId = await this.#locate(push.playerId);
        // Not found, or found again where it was not: offline (or between two scenes).
        if (sceneId === null || sceneId === tried) return OFFLINE;
        tried = sceneId;
        const timeoutMs = Math.floor(deadline - performance.now());
        if (timeoutMs <= 0) break;
        const answer = await this.#calls.request(from, { to: sceneId, message: PUSH_MESSAGE, payload, place: false, timeoutMs });
        if (answer.ok ? answer.result === 'true' : !LOOK_AGAIN.has(answer.code)) return answer;
      }
    } catch (err) {
      return isCodedError(err) && err.code !== '' ? { ok: false, code: err.code, message: err.message } : { ok: false, code: ErrorCodes.ENG_ERR_HANDLER_FAILED, message: `the push to player ${push.playerId} could not be delivered` };
    }
    return performance.now() >= deadline ? { ok: false, code: ErrorCodes.ENG_ERR_CALL_TIMEOUT, message: `no word on the push to player ${push.playerId} in time` } : OFFLINE;
  }

  /** The scene the player plays in: its seat on this engine, else its session's (presence). */
  async #locate(playerId: string): Promise<string | null> {
    const { seats, conns } = this.#ctx;
    const sid = seats.holder(playerId);
    const conn = sid === undefined ? undefined : conns.get(sid);
    if (conn !== undefined && conn.state === 'joined' && conn.travellingTo === null) return conn.sceneId;
    // On this engine but between two scenes (or still joining), and nobody else to ask: in transit.
    if (this.#presence === null && conn !== undefined) return null;
    if (this.#presence === null) throw new CodedError(ErrorCodes.ENG_ERR_NO_PRESENCE, `player ${playerId} is not on engine ${this.#ctx.o.engineId}, which has no presence store to find it`);
    return (await this.#presence.locate(playerId))?.sceneId ?? null;
  }
}
