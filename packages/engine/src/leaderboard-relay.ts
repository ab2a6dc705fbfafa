/**
 * `scene.leaderboards`, the engine main thread's part: a scene's LEADERBOARD record runs one
 * operation on the engine's leaderboards (Redis or memory, `EngineOptions.leaderboards`) and its
 * outcome goes back to the scene as ToScene.ANSWER. Operations run concurrently; past
 * {@link MAX_IN_FLIGHT} under way on this engine, new ones are refused with `ENG_ERR_QUEUE_FULL`.
 */
import { CodedError, ErrorCodes, toErrorData } from '@gos/schema';
import { runOperation, type LeaderboardApi } from '@gos/leaderboard';
import type { Logger } from '@gos/schema';
import type { LeaderboardRequest } from './leaderboard-records.js';
import type { CallAnswer } from './records.js';
import type { SceneHost } from './scene-host.js';

const MAX_IN_FLIGHT = 10_000;

export class LeaderboardRelay {
  readonly #ctx: { readonly engineId: string; readonly logger: Logger };
  readonly #api: LeaderboardApi | null;
  #inFlight = 0;

  constructor(ctx: { readonly engineId: string; readonly logger: Logger }, api: LeaderboardApi | null) {
    this.#ctx = ctx;
    this.#api = api;
  }

  /** Operations under way (tests: back to 0). */
  get pending(): number {
    return this.#inFlight;
  }

  /** Scene `host` asks for `request` under its call id `callId`. */
  outgoing(host: SceneHost, callId: number, request: LeaderboardRequest): void {
    const reply = (answer: CallAnswer): void => host.answer(callId, answer, this.#ctx.logger, { op: request.op });
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      reply({ ok: false, code: ErrorCodes.ENG_ERR_QUEUE_FULL, message: `more than ${MAX_IN_FLIGHT} leaderboard operations are under way on engine ${this.#ctx.engineId}` });
      return;
    }
    this.#inFlight++;
    void this.#run(request).then((answer) => {
      this.#inFlight--;
      reply(answer);
    });
  }

  /** Never rejects. */
  async #run(request: LeaderboardRequest): Promise<CallAnswer> {
    try {
      if (this.#api === null) throw new CodedError(ErrorCodes.LB_ERR_NOT_CONFIGURED, `engine ${this.#ctx.engineId} runs without leaderboards (EngineOptions.leaderboards)`);
      const result = await runOperation(this.#api, request.op, request.args);
      return { ok: true, result: JSON.stringify(result ?? null) };
    } catch (err) {
      const data = toErrorData(err, ErrorCodes.ENG_ERR_HANDLER_FAILED);
      if (data.code === ErrorCodes.ENG_ERR_HANDLER_FAILED) this.#ctx.logger.error({ err, op: request.op }, 'leaderboard operation failed');
      return { ok: false, code: data.code, message: data.message };
    }
  }
}
