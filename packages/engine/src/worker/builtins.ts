import { CodedError, ErrorCodes } from '@gos/schema';
import type { CallHandler } from '../api.js';
import { ADMIN_CALL_MESSAGE, EVAL_MESSAGE, INSPECT_MESSAGE, PUSH_MESSAGE, WAKE_MESSAGE, asPlayerPush } from '../records.js';

/** What the framework's own messages need from the scene they reach. */
export interface Builtins {
  /** Hand a push frame to player `playerId` if it is in this scene; whether it was. */
  push(playerId: string, frame: Uint8Array): boolean;
  /** The scene's state, a player's hot data, or a summary (the REPL's `state`, `player`, `scenes`). */
  inspect(what: 'state' | 'player' | 'summary', playerId: string | undefined): unknown;
  /** Run `fn` at the scene's next tick boundary (a service: now, between two messages); its result. */
  atTickBoundary(fn: () => unknown): Promise<unknown>;
  /** Run the scene's own handler of `message` with a JSON payload, as a call from `from` (the REPL's `call`). */
  callAsJson(message: string, payload: unknown, from: string, cast: boolean): unknown;
  /** Run `fn(scene)` (the REPL's `eval`). */
  evaluate(fn: (scene: unknown) => unknown): unknown;
}

/**
 * The handler of a framework message (names starting with `$`, which scene code cannot send),
 * or undefined for any other message.
 */
export function builtinHandler(message: string, b: Builtins): CallHandler | undefined {
  switch (message) {
    case PUSH_MESSAGE:
      return (_scene, payload) => {
        const push = asPlayerPush(payload);
        if (push === null) throw bad(`${PUSH_MESSAGE} needs a player id and a frame`);
        return b.push(push.playerId, Buffer.from(push.frame, 'base64'));
      };
    case WAKE_MESSAGE:
      return () => true;
    case INSPECT_MESSAGE:
      return (_scene, payload) => {
        const p = object(payload, INSPECT_MESSAGE);
        const what = p['what'];
        if (what !== 'state' && what !== 'player' && what !== 'summary') throw bad(`${INSPECT_MESSAGE}: what must be state, player or summary`);
        const playerId = p['playerId'];
        return jsonSafe(b.inspect(what, typeof playerId === 'string' ? playerId : undefined));
      };
    case ADMIN_CALL_MESSAGE:
      return async (_scene, payload, from) => {
        const p = object(payload, ADMIN_CALL_MESSAGE);
        const message = p['message'];
        if (typeof message !== 'string' || message === '' || message.startsWith('$')) throw bad(`${ADMIN_CALL_MESSAGE}: message must be a handler's name`);
        return jsonSafe(await b.callAsJson(message, p['payload'] ?? null, from, p['cast'] === true));
      };
    case EVAL_MESSAGE:
      return async (_scene, payload) => {
        const code = object(payload, EVAL_MESSAGE)['code'];
        if (typeof code !== 'string' || code.trim() === '') throw bad(`${EVAL_MESSAGE}: code must be a function's source, e.g. (scene) => scene.state`);
        let fn: unknown;
        try {
          // The operator's own code, run in the scene's worker: only through an authenticated REPL started with --write.
          // eslint-disable-next-line @typescript-eslint/no-implied-eval
          const compile = new Function(`"use strict"; return (${code});`) as () => unknown;
          fn = compile();
        } catch (err) {
          throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `eval: cannot compile: ${(err as Error).message}`, { cause: err });
        }
        if (typeof fn !== 'function') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'eval: the code must be a function of the scene, e.g. (scene) => scene.state');
        const f = fn as (scene: unknown) => unknown;
        return jsonSafe(await b.atTickBoundary(() => b.evaluate(f)));
      };
    default:
      return undefined;
  }
}

function bad(message: string): CodedError {
  return new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, message);
}

function object(payload: unknown, what: string): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw bad(`${what} needs an object payload`);
  return payload as Record<string, unknown>;
}

/** A value JSON can carry: bigints as strings, byte arrays as arrays, anything else JSON drops as JSON drops it. */
export function jsonSafe(value: unknown): unknown {
  const text = JSON.stringify(value === undefined ? null : value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Array.from(v) : v));
  return text === undefined ? null : (JSON.parse(text) as unknown);
}
