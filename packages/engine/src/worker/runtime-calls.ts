import { CodedError, ErrorCodes, isCodedError, type Logger } from '@gos/schema';
import type { CallHandler, CallOptions } from '../api.js';
import { FromScene, encodeCallAnswer, encodeOutgoingCall, encodePlayerPush, type CallAnswer, type IncomingCall } from '../records.js';
import type { Outbox } from '../outbox.js';
import { encodeLeaderboardRequest } from '../leaderboard-records.js';
import { encodeMailRequest, type MailOp } from '../mail-records.js';
import type { RpcPayloads } from './rpc-payloads.js';
import { builtinHandler, type Builtins } from './builtins.js';

const DEFAULT_TIMEOUT_MS = 5000;
/** Messages that may wait for a service (a slow handler): past that, calls are refused with ENG_ERR_QUEUE_FULL. */
const MAX_BACKLOG = 1024;
const encoder = new TextEncoder();
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

type Handlers = { readonly calls?: Readonly<Record<string, CallHandler>>; readonly casts?: Readonly<Record<string, CallHandler>> };
type Runner = (handler: CallHandler, payload: unknown, from: string) => unknown;

interface Waiting {
  /** Given the answer's result (JSON text). */
  readonly resolve: (result: string) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * A scene's calls to other scenes (`scene.call`, `scene.cast`) and its answers to theirs. A call
 * goes to the main thread as a CALL record and waits for its ANSWER (or its timeout); a call
 * that arrives (ToScene.CALL) runs the scene's `calls` or `casts` handler, and a call's outcome
 * goes back as ANSWER. Payloads and results travel as their `rpc:` message when the protocol
 * declares one for the target's scene type, else as JSON (RpcPayloads).
 */
export class SceneCalls {
  readonly #out: Outbox;
  readonly #log: Logger;
  readonly #sceneId: string;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;
  /**
   * `creating` while onCreate runs: the scene's thread reads no answers until it is done, so a
   * call then could only time out and is refused at once. `stopped` once the scene stops.
   */
  #phase: 'creating' | 'running' | 'stopped' = 'creating';

  /** onCreate is done: calls may wait for answers from now on. */
  started(): void {
    if (this.#phase === 'creating') this.#phase = 'running';
  }

  readonly #payloads: RpcPayloads;
  /** A service's: incoming messages are handled one at a time (the next waits for an async handler). */
  readonly #serial: boolean;
  /** Incoming messages of a serial scene, the head being handled. */
  readonly #backlog: Array<() => Promise<void> | undefined> = [];
  /** The serial scene's async handler at work, if any. */
  #running: Promise<void> | null = null;
  /** Set when the scene starts stopping: no incoming message is handled any more. */
  #closed = false;

  constructor(out: Outbox, sceneId: string, logger: Logger, payloads: RpcPayloads, serial = false) {
    this.#out = out;
    this.#sceneId = sceneId;
    this.#log = logger;
    this.#payloads = payloads;
    this.#serial = serial;
  }

  call(target: string, message: string, payload: unknown, options?: CallOptions | null): Promise<unknown> {
    const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let request: Uint8Array;
    try {
      this.#assertCanWait('call');
      checkTimeout(timeoutMs);
      request = this.#request(target, message, payload, options?.place, timeoutMs);
    } catch (err) {
      return refused(err);
    }
    return this.#wait(FromScene.CALL, request, timeoutMs, `${target} did not answer ${message} within ${timeoutMs} ms`, (result) => this.#payloads.answer(target, message, result));
  }

  /**
   * Hand `frame` (a push) to player `playerId` wherever it is: true once its connection has it,
   * false when it is offline. The main thread finds the player's scene (this engine's seats,
   * then the presence store) and that scene's thread hands the frame over.
   */
  sendTo(playerId: string, frame: Uint8Array, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<boolean> {
    let request: Uint8Array;
    try {
      this.#assertCanWait('sendTo');
      checkTimeout(timeoutMs);
      if (typeof playerId !== 'string' || playerId === '' || playerId.length > 255) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `sendTo needs a player id, got ${String(playerId)}`);
      request = encoder.encode(encodePlayerPush({ playerId, frame: Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('base64'), timeoutMs }));
    } catch (err) {
      return refused(err);
    }
    return this.#wait(FromScene.SEND_TO, request, timeoutMs, `no word on the push to player ${playerId} within ${timeoutMs} ms`, (result) => JSON.parse(result) === true);
  }

  /** A leaderboard operation (`scene.leaderboards`), run by the engine's main thread: its result. */
  leaderboard(op: string, args: readonly unknown[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
    let request: Uint8Array;
    try {
      this.#assertCanWait(`leaderboards.${op}`);
      request = encoder.encode(encodeLeaderboardRequest({ op, args: [...args] }));
    } catch (err) {
      return refused(err);
    }
    return this.#wait(FromScene.LEADERBOARD, request, timeoutMs, `no answer to leaderboards.${op} within ${timeoutMs} ms`, (result) => JSON.parse(result) as unknown);
  }

  /** A mail operation (`scene.mail`), run by the engine's main thread: its result. */
  mail(op: MailOp, args: readonly unknown[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
    let request: Uint8Array;
    try {
      this.#assertCanWait(`mail.${op}`);
      request = encoder.encode(encodeMailRequest({ op, args: [...args] }));
    } catch (err) {
      return refused(isCodedError(err) ? err : new CodedError(ErrorCodes.OPT_ERR_INVALID, `mail.${op}: its arguments cannot be written as JSON: ${(err as Error).message}`, { cause: err }));
    }
    return this.#wait(FromScene.MAIL, request, timeoutMs, `no answer to mail.${op} within ${timeoutMs} ms`, (result) => JSON.parse(result) as unknown);
  }

  /**
   * A mail claim carrying the player's data: `sent` false when it never left this thread (nothing
   * can have been claimed), else its answer.
   */
  mailClaim(args: readonly unknown[], timeoutMs: number): { readonly sent: boolean; readonly answer: Promise<unknown> } {
    let request: Uint8Array;
    try {
      this.#assertCanWait('mail.claim');
      request = encoder.encode(encodeMailRequest({ op: 'claim', args: [...args] }));
    } catch (err) {
      return { sent: false, answer: refused(err) };
    }
    let sent = true;
    const answer = this.#wait(FromScene.MAIL, request, timeoutMs, `no answer to mail.claim within ${timeoutMs} ms`, (result) => JSON.parse(result) as unknown, () => (sent = false));
    return { sent, answer };
  }

  #assertCanWait(what: string): void {
    if (this.#phase === 'creating') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `scene ${this.#sceneId} cannot wait for the outcome of ${what} in onCreate; use it from a handler, a timer or onTick`);
    if (this.#phase === 'stopped') throw new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, `scene ${this.#sceneId} has stopped`);
  }

  /** Send record `type` under a new call id and wait for its ANSWER, `parse`d, or the timeout. */
  #wait<T>(type: number, request: Uint8Array, timeoutMs: number, timeoutMessage: string, parse: (result: string) => T, unsent?: () => void): Promise<T> {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0x7fffffff ? 1 : this.#nextId + 1;
    const answer = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new CodedError(ErrorCodes.ENG_ERR_CALL_TIMEOUT, timeoutMessage));
      }, timeoutMs);
      const parsed = (result: string): void => {
        try {
          resolve(parse(result));
        } catch (err) {
          reject(isCodedError(err) ? err : new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, 'the answer cannot be read', { cause: err }));
        }
      };
      this.#waiting.set(id, { resolve: parsed, reject, timer });
      try {
        this.#out.send(type, 0, id, request);
      } catch (err) {
        clearTimeout(timer);
        this.#waiting.delete(id);
        unsent?.();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    return handled(answer);
  }

  cast(target: string, message: string, payload: unknown, options?: Pick<CallOptions, 'place'> | null): void {
    if (this.#phase === 'stopped') throw new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, `scene ${this.#sceneId} has stopped`);
    this.#out.send(FromScene.CALL, 0, 0, this.#request(target, message, payload, options?.place, 0));
  }

  /** The answer to call `id` (ToScene.ANSWER). One that comes after its timeout is dropped. */
  answered(id: number, answer: CallAnswer): void {
    const waiting = this.#waiting.get(id);
    if (waiting === undefined) return;
    this.#waiting.delete(id);
    clearTimeout(waiting.timer);
    if (!answer.ok) waiting.reject(new CodedError(answer.code, answer.message));
    else waiting.resolve(answer.result);
  }

  /**
   * A call (`id` > 0) or cast (`id` 0) from another scene: run its handler, answer a call. A
   * {@link PUSH_MESSAGE} call is the framework's: `deliver` hands the push to the player if it
   * is in this scene (the answer says whether it was).
   */
  incoming(id: number, call: IncomingCall, handlers: Handlers, run: Runner, builtins: Builtins): void {
    if (!this.#serial) {
      void this.#handle(id, call, handlers, run, builtins);
      return;
    }
    // A service: one message at a time, in arrival order. A call whose caller gave up while it
    // waited is dropped (its answer would reach nobody, and it would run unasked).
    const deadline = id !== 0 && call.timeoutMs !== undefined && call.timeoutMs > 0 ? performance.now() + call.timeoutMs : Infinity;
    const queued = this.serially(() => (performance.now() < deadline ? this.#handle(id, call, handlers, run, builtins) : undefined));
    if (!queued && id !== 0) {
      this.#answer(id, call, { ok: false, code: this.#closed ? ErrorCodes.ENG_ERR_SCENE_MOVED : ErrorCodes.ENG_ERR_QUEUE_FULL, message: `${this.#sceneId} cannot take ${call.message} now (${this.#closed ? 'it is stopping; retry' : `more than ${MAX_BACKLOG} messages wait`})` });
    } else if (!queued) this.#log.warn({ from: call.from, message: call.message }, 'cast dropped: the service cannot take it now');
  }

  /**
   * Run `task` in turn with the incoming messages when they are handled one at a time (a
   * service), else at once. False (not run) once the scene stopped, or past {@link MAX_BACKLOG}
   * (unless `unbounded`: the framework's own work, such as a timer firing, is never refused).
   */
  serially(task: () => Promise<void> | undefined, unbounded = false): boolean {
    if (this.#closed || this.#phase === 'stopped') return false;
    if (!this.#serial) {
      void task();
      return true;
    }
    if (!unbounded && this.#backlog.length > MAX_BACKLOG) return false;
    this.#backlog.push(task);
    if (this.#backlog.length === 1) this.#next();
    return true;
  }

  /**
   * The scene stops: nothing queued runs any more (its callers are answered by the main thread,
   * retryable), and the handler at work, if any, gets up to `ms` to finish first.
   */
  async quiesce(ms: number): Promise<void> {
    const running = this.#running;
    this.#closed = true;
    this.#backlog.length = 0;
    if (running === null) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([running, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** Run the backlog's head; once it is done (at once for a synchronous handler), the next. */
  #next(): void {
    while (this.#backlog.length > 0 && !this.#closed) {
      const pending = this.#backlog[0]!();
      if (pending !== undefined) {
        this.#running = pending;
        void pending.then(() => {
          this.#running = null;
          this.#backlog.shift();
          this.#next();
        });
        return;
      }
      this.#backlog.shift();
    }
  }

  /** Handle one incoming message; a promise when its handler is still at work. Never rejects. */
  #handle(id: number, call: IncomingCall, handlers: Handlers, run: Runner, builtins: Builtins): Promise<void> | undefined {
    // Own handlers only: a message named `constructor` or `toString` is no handler.
    const table = id === 0 ? handlers.casts : handlers.calls;
    const builtin = call.message.startsWith('$') ? builtinHandler(call.message, builtins) : undefined;
    const handler = builtin ?? (table !== undefined && Object.hasOwn(table, call.message) ? table[call.message] : undefined);
    const answer = (a: CallAnswer): void => this.#answer(id, call, a);
    const fail = (err: unknown): void => {
      const coded = isCodedError(err) && err.code !== '';
      if (!coded) this.#log.error({ err, from: call.from, message: call.message }, 'call handler threw');
      answer(coded ? { ok: false, code: err.code, message: err.message } : { ok: false, code: ErrorCodes.ENG_ERR_HANDLER_FAILED, message: `${call.message} failed in ${this.#sceneId}` });
    };
    if (handler === undefined) {
      answer({ ok: false, code: ErrorCodes.ENG_ERR_NO_HANDLER, message: `${this.#sceneId} has no ${id === 0 ? 'cast' : 'call'} handler for ${call.message}` });
      return undefined;
    }
    let payload: unknown;
    try {
      payload = this.#payloads.incoming(call.message, call.payload);
    } catch (err) {
      fail(err);
      return undefined;
    }
    // Never throws: an answer that cannot be written (not JSON, not its rpc message) is a coded error for the caller. A cast's result is not sent.
    const ok = (result: unknown): void => {
      if (id === 0) return;
      let text: string;
      try {
        text = this.#payloads.result(call.message, result);
      } catch (err) {
        return fail(err);
      }
      answer({ ok: true, result: text });
    };
    let result: unknown;
    try {
      result = run(handler, payload, call.from);
    } catch (err) {
      fail(err);
      return undefined;
    }
    if (result instanceof Promise) return result.then(ok, fail);
    ok(result);
    return undefined;
  }

  /** Answer call `id` (a cast's failure is only logged). Never throws. */
  #answer(id: number, call: IncomingCall, a: CallAnswer): void {
    if (id === 0) {
      if (!a.ok) this.#log.warn({ from: call.from, message: call.message, code: a.code }, `cast failed: ${a.message}`);
      return;
    }
    try {
      this.#out.send(FromScene.ANSWER, 0, id, encodeCallAnswer(a));
    } catch (err) {
      // Too large for the ring, say: the caller gets that code rather than its timeout.
      this.#log.error({ err, from: call.from, message: call.message }, 'cannot send the answer to a call');
      if (!a.ok) return;
      try {
        const code = isCodedError(err) && err.code !== '' ? err.code : ErrorCodes.ENG_ERR_HANDLER_FAILED;
        this.#out.send(FromScene.ANSWER, 0, id, encodeCallAnswer({ ok: false, code, message: `the answer to ${call.message} could not be sent` }));
      } catch {
        // Not even that: the caller's timeout answers it.
      }
    }
  }

  /** The scene stops (after onDispose): calls still waiting are refused, and no new one is made. */
  stopAll(): void {
    this.#phase = 'stopped';
    for (const [id, waiting] of [...this.#waiting]) {
      this.#waiting.delete(id);
      clearTimeout(waiting.timer);
      waiting.reject(new CodedError(ErrorCodes.ENG_ERR_SHUTTING_DOWN, `scene ${this.#sceneId} stopped before the answer`));
    }
  }

  #request(target: string, message: string, payload: unknown, place: boolean | undefined, timeoutMs: number): Uint8Array {
    if (typeof target !== 'string' || target === '' || target.length > 255) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `call target must be a scene id ("<type>:<instance>"), got ${String(target)}`);
    if (typeof message !== 'string' || message === '') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'call message must be a name');
    if (message.startsWith('$')) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `call message ${message}: names starting with $ are the framework's`);
    if (place !== undefined && typeof place !== 'boolean') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `call option place must be true or false, got ${String(place)}`);
    const json = this.#payloads.request(target, message, payload, timeoutMs === 0);
    return encodeOutgoingCall({ to: target, message, payload: json, place: place ?? true, timeoutMs });
  }
}

function checkTimeout(timeoutMs: unknown): void {
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `timeoutMs must be a positive integer, got ${String(timeoutMs)}`);
}

/** A promise already rejected with `err`, whose rejection nobody awaiting it cannot end the thread. */
export function refused(err: unknown): Promise<never> {
  return handled(Promise.reject(err instanceof Error ? err : new Error(String(err))));
}

/** A promise whose rejection nobody awaits must not end the scene's thread; the caller still sees it. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}
