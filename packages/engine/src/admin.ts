/**
 * The engine's end of the operator's REPL (docs/repl.md): a command arrives over the link (a
 * peer that knows the cluster secret) with an admin credential, is checked against the
 * engine's `admin.credentials`, logged with who sent it, and answered. Scene state, player
 * data, calls and eval reach the scene through the framework's own call messages, so a scene
 * on any engine of the cluster can be looked at from any engine.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { CodedError, ErrorCodes, isCodedError } from '@gos/schema';
import { EngineToAdmin, encodeAnswerBody, type AdminBody, type GatewayPeer } from '@gos/link';
import type { CallRouter } from './calls.js';
import { sendTo, type EngineContext } from './engine-context.js';
import { ADMIN_CALL_MESSAGE, EVAL_MESSAGE, INSPECT_MESSAGE, type CallAnswer } from './records.js';
import type { PlayerLocator } from './player-pushes.js';
import type { MigrationOutcome } from './migrations.js';
import type { Scenes } from './scenes.js';
import { runServiceCommand } from './admin-services.js';

export interface AdminCredential {
  /** Who: logged with every command. */
  readonly name: string;
  /** At least 16 characters. */
  readonly secret: string;
  /** May run `eval` (with a REPL started with --write). @default false */
  readonly write?: boolean;
}

/** The framework messages of the REPL: from another engine, they must carry a credential's proof (AdminProof). */
export const ADMIN_MESSAGES: ReadonlySet<string> = new Set([INSPECT_MESSAGE, ADMIN_CALL_MESSAGE, EVAL_MESSAGE]);

/** The proof of an admin credential a REPL message carries to another engine: an HMAC over where it goes and what it says. */
function proof(secret: string, to: string, message: string, payloadJson: string): string {
  return createHmac('sha256', secret).update(`${to}\n${message}\n${payloadJson}`).digest('base64url');
}

const COMMAND_TIMEOUT_MS = 5000;
const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** What the operator's cluster commands act on (the engine's live moves and its drain). */
export interface AdminActions {
  migrate(sceneId: string, to?: string): Promise<MigrationOutcome>;
  /** Start the engine's drain (it moves its scenes live, then stops); returns at once. */
  drain(): void;
}

export class AdminConsole {
  readonly #ctx: EngineContext;
  readonly #actions: AdminActions;
  readonly #calls: Pick<CallRouter, 'request'>;
  readonly #scenes: Pick<Scenes, 'values'>;
  readonly #presence: PlayerLocator | null;
  readonly #credentials: ReadonlyMap<string, { readonly digest: Buffer; readonly secret: string; readonly write: boolean }>;

  constructor(ctx: EngineContext, calls: Pick<CallRouter, 'request'>, scenes: Pick<Scenes, 'values'>, presence: PlayerLocator | null, credentials: readonly AdminCredential[], actions: AdminActions) {
    this.#ctx = ctx;
    this.#actions = actions;
    this.#calls = calls;
    this.#scenes = scenes;
    this.#presence = presence;
    this.#credentials = new Map(credentials.map((c) => [c.name, { digest: digest(c.secret), secret: c.secret, write: c.write === true }]));
  }

  /**
   * Whether a REPL message that came from another engine (a CALL of `message` to `to` with
   * `payloadJson`) carries a valid proof of one of this engine's credentials, and, for eval,
   * one allowed to write. Only REPL sessions make these messages; this keeps a peer that merely
   * knows the cluster secret from making them.
   */
  verifyRemote(to: string, message: string, payloadJson: string): boolean {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payloadJson);
    } catch {
      return false;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return false;
    const { auth, ...rest } = parsed as { auth?: { user?: unknown; mac?: unknown } };
    if (typeof auth?.user !== 'string' || typeof auth.mac !== 'string') return false;
    const cred = this.#credentials.get(auth.user);
    if (cred === undefined || (message === EVAL_MESSAGE && !cred.write)) return false;
    const expected = Buffer.from(proof(cred.secret, to, message, JSON.stringify(rest)));
    const given = Buffer.from(auth.mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** A COMMAND from `peer` on `channel`: answered on the same channel. Never rejects. */
  async command(peer: GatewayPeer, channel: number, body: AdminBody): Promise<void> {
    const answer = (a: CallAnswer): void =>
      sendTo(this.#ctx, peer, EngineToAdmin.ANSWER, channel, encodeAnswerBody(a.ok ? { ok: true, result: a.result, code: '', message: '' } : { ok: false, result: '', code: a.code, message: a.message }));
    const log = this.#ctx.log.child({ admin: body.user, from: peer.nodeId });
    const known = this.#credentials.get(body.user);
    // The same work for an unknown user as for a known one.
    const given = digest(body.secret);
    if (known === undefined || !timingSafeEqual(known.digest, given)) {
      log.warn({ command: body.command }, this.#credentials.size === 0 ? 'admin command refused: no admin credentials are configured' : 'admin command refused: wrong credential');
      answer({ ok: false, code: ErrorCodes.ENG_ERR_ADMIN_DENIED, message: this.#credentials.size === 0 ? 'this engine has no admin credentials configured (admin.credentials)' : 'wrong admin credential' });
      return;
    }
    let args: unknown[];
    try {
      const parsed: unknown = JSON.parse(body.args === '' ? '[]' : body.args);
      if (!Array.isArray(parsed)) throw new Error('not an array');
      args = parsed;
    } catch (err) {
      answer({ ok: false, code: ErrorCodes.SCH_ERR_BAD_PAYLOAD, message: `args must be a JSON array (${(err as Error).message})` });
      return;
    }
    // Who, what and when (the log line's time), before it runs.
    log.info({ command: body.command, args: JSON.stringify(args).slice(0, 500), write: body.write }, 'admin command');
    try {
      const result = await this.#run(body.command, args, body.user, body.write && known.write);
      answer({ ok: true, result: JSON.stringify(result === undefined ? null : result) });
    } catch (err) {
      const coded = isCodedError(err) && err.code !== '';
      if (!coded) log.error({ err, command: body.command }, 'admin command failed');
      answer(coded ? { ok: false, code: err.code, message: err.message } : { ok: false, code: ErrorCodes.ENG_ERR_HANDLER_FAILED, message: `${body.command} failed` });
    }
  }

  async #run(command: string, args: unknown[], user: string, write: boolean): Promise<unknown> {
    const { o, conns } = this.#ctx;
    const str = (i: number, what: string): string => {
      const v = args[i];
      if (typeof v !== 'string' || v === '') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `${command} needs ${what}`);
      return v;
    };
    const from = `$admin:${user}`;
    switch (command) {
      case 'hello':
        return { engineId: o.engineId, write };
      case 'scenes':
        return Promise.all(
          [...this.#scenes.values()].map(async (h) => {
            const summary = await this.#ask(from, h.sceneId, INSPECT_MESSAGE, { what: 'summary' }).catch(() => null);
            const s = (summary ?? {}) as { service?: boolean; timers?: number; tick?: number };
            return { sceneId: h.sceneId, type: h.sceneType, players: h.sids.size, epoch: h.epoch, service: s.service ?? null, timers: s.timers ?? null, tick: s.tick ?? null };
          }),
        );
      case 'players':
        return [...conns.values()].map((c) => ({ playerId: c.playerId, name: c.name, sceneId: c.sceneId, gatewayId: c.peer.nodeId, state: c.state, travellingTo: c.travellingTo }));
      case 'state':
        return this.#ask(from, str(0, 'a scene id'), INSPECT_MESSAGE, { what: 'state' });
      case 'player': {
        const playerId = str(0, 'a player id');
        const sceneId = await this.#sceneOf(playerId);
        if (sceneId === null) throw new CodedError(ErrorCodes.ENG_ERR_NOT_JOINED, `player ${playerId} is not online`);
        return this.#ask(from, sceneId, INSPECT_MESSAGE, { what: 'player', playerId });
      }
      case 'call':
      case 'cast':
        return this.#ask(from, str(0, 'a target scene or service id'), ADMIN_CALL_MESSAGE, { message: str(1, 'a message name'), payload: args[2] ?? null, cast: command === 'cast' }, true);
      case 'eval':
        if (!write) throw new CodedError(ErrorCodes.ENG_ERR_ADMIN_READ_ONLY, 'eval runs code in a scene: it needs a credential with write: true and a REPL started with --write');
        return this.#ask(from, str(0, 'a scene id'), EVAL_MESSAGE, { code: str(1, "a function's source, e.g. (scene) => scene.state") });
      case 'migrate': {
        if (!write) throw new CodedError(ErrorCodes.ENG_ERR_ADMIN_READ_ONLY, 'migrate moves a scene: it needs a credential with write: true and a REPL started with --write');
        const to = args[1];
        if (to !== undefined && to !== null && (typeof to !== 'string' || to === '')) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'migrate takes a scene id and, optionally, an engine id');
        return this.#actions.migrate(str(0, 'a scene id'), typeof to === 'string' ? to : undefined);
      }
      case 'drain': {
        if (!write) throw new CodedError(ErrorCodes.ENG_ERR_ADMIN_READ_ONLY, 'drain stops the engine: it needs a credential with write: true and a REPL started with --write');
        const scenes = [...this.#scenes.values()].length;
        // Answered first: the drain closes this very link at its end.
        setImmediate(() => this.#actions.drain());
        return { engineId: o.engineId, draining: true, scenes };
      }
      case 'logs':
      case 'lb':
      case 'mail':
      case 'chat':
        return runServiceCommand(this.#ctx, command, args, write);
      default:
        throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `unknown command ${command} (hello, scenes, players, state, player, call, cast, eval, migrate, drain, logs, lb, mail, chat)`);
    }
  }

  /** The scene a player plays in: its seat here, else its presence. */
  async #sceneOf(playerId: string): Promise<string | null> {
    const sid = this.#ctx.seats.holder(playerId);
    const conn = sid === undefined ? undefined : this.#ctx.conns.get(sid);
    if (conn !== undefined) return conn.sceneId;
    return (await this.#presence?.locate(playerId))?.sceneId ?? null;
  }

  /** A framework message to `to` (on any engine), with the proof of the session's credential; its answer, or its error thrown. */
  async #ask(from: string, to: string, message: string, payload: Record<string, unknown>, place = false): Promise<unknown> {
    const user = from.slice('$admin:'.length);
    const cred = this.#credentials.get(user);
    const auth = cred === undefined ? undefined : { user, mac: proof(cred.secret, to, message, JSON.stringify(payload)) };
    const answer = await this.#calls.request(from, { to, message, payload: JSON.stringify({ ...payload, auth }), place, timeoutMs: COMMAND_TIMEOUT_MS });
    if (!answer.ok) throw new CodedError(answer.code, answer.message);
    return JSON.parse(answer.result) as unknown;
  }
}

