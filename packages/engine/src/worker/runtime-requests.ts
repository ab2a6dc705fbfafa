import { ErrorCodes, FrameFlag, FrameKind, encodeErrorFrame, encodeFrame, framePayload, isCodedError, readFrameHeader, type Protocol, type RouteDef } from '@gos/schema';
import type { HandlerContext, SceneDefinition } from '../api.js';
import type { Outbox } from '../outbox.js';
import { FromScene } from '../records.js';
import type { RuntimePlayer } from './runtime-player.js';
import type { SceneRuntime } from './runtime.js';

type Handler = SceneDefinition['handlers'][string];

/** A route this scene type serves, with its handler: found with one lookup per frame. */
interface ServedRoute {
  readonly route: RouteDef;
  readonly handler: Handler;
}

/** What a request handler gets (a class: no closure per request). */
class RequestContext implements HandlerContext<unknown, unknown, Record<string, unknown>> {
  constructor(
    readonly scene: SceneRuntime,
    readonly player: RuntimePlayer,
    readonly requestId: number,
  ) {}

  log(event: string, fields?: Record<string, unknown>): void {
    this.player.log(event, fields);
  }

  /** A getter so that `{ sendTo }` destructured from the context still works (no closure per request unless used). */
  get sendTo(): HandlerContext['sendTo'] {
    return (playerId: string, push: string, payload: unknown, options?: { readonly timeoutMs?: number }) => this.scene.sendTo(playerId, push, payload, options);
  }
}

/**
 * A scene's client requests: a frame from one of its players is decoded, its route's handler
 * runs, and the response (or a coded ERROR frame) goes back to that player unless the request
 * was sent with NO_REPLY. The player is marked dirty after every handler.
 */
export class SceneRequests {
  readonly #scene: SceneRuntime;
  readonly #out: Outbox;
  readonly #playerOf: (sid: number) => RuntimePlayer | undefined;
  /** Routes by opcode that this scene type has a handler for. */
  readonly #served = new Map<number, ServedRoute>();

  constructor(scene: SceneRuntime, def: SceneDefinition, protocol: Protocol, out: Outbox, playerOf: (sid: number) => RuntimePlayer | undefined) {
    this.#scene = scene;
    this.#out = out;
    this.#playerOf = playerOf;
    for (const route of protocol.routeById.values()) {
      const handler = def.handlers[route.name];
      if (handler !== undefined) this.#served.set(route.id, { route, handler });
    }
  }

  frame(sid: number, bytes: Uint8Array): void {
    const header = readFrameHeader(bytes);
    if (header === null || header.kind !== FrameKind.REQUEST) return; // the gateway filters these
    const player = this.#playerOf(sid);
    if (player === undefined) {
      this.#out.send(FromScene.SEND, sid, 0, encodeErrorFrame(header.opcode, header.requestId, ErrorCodes.ENG_ERR_NOT_JOINED, 'not in this scene'));
      return;
    }
    const served = this.#served.get(header.opcode);
    if (served === undefined) {
      this.#out.send(FromScene.SEND, sid, 0, encodeErrorFrame(header.opcode, header.requestId, ErrorCodes.ENG_ERR_NO_HANDLER, `no handler for route ${header.opcode} in scene type ${this.#scene.type}`));
      return;
    }
    const route = served.route;
    let req: unknown;
    try {
      req = route.request.decode(framePayload(bytes));
    } catch (err) {
      const code = isCodedError(err) ? err.code : ErrorCodes.SCH_ERR_BAD_PAYLOAD;
      this.#out.send(FromScene.SEND, sid, 0, encodeErrorFrame(header.opcode, header.requestId, code, `bad ${route.request.name} payload`));
      return;
    }
    const ctx = new RequestContext(this.#scene, player, header.requestId);
    const noReply = (header.flags & FrameFlag.NO_REPLY) !== 0;
    let result: unknown;
    try {
      result = served.handler(ctx, req);
    } catch (err) {
      this.#failRequest(sid, player, route, header.requestId, err);
      return;
    }
    // The common case, a synchronous handler: no closures.
    if (!(result instanceof Promise)) return this.#succeed(sid, player, route, header.requestId, noReply, result);
    result.then(
      (res: unknown) => this.#succeed(sid, player, route, header.requestId, noReply, res),
      (err: unknown) => this.#failRequest(sid, player, route, header.requestId, err),
    );
  }

  /** A handler returned: mark the player, then answer unless NO_REPLY or the player left meanwhile. */
  #succeed(sid: number, player: RuntimePlayer, route: RouteDef, requestId: number, noReply: boolean, res: unknown): void {
    player.dirty = true;
    if (noReply || this.#playerOf(sid) === undefined) return;
    try {
      const payload = route.response === null ? null : route.response.encode(res);
      this.#out.send(FromScene.SEND, sid, 0, encodeFrame(FrameKind.RESPONSE, route.id, requestId, payload));
    } catch (err) {
      this.#failRequest(sid, player, route, requestId, err); // e.g. a response the codec cannot encode
    }
  }

  #failRequest(sid: number, player: RuntimePlayer, route: RouteDef, requestId: number, err: unknown): void {
    try {
      this.#fail(sid, player, route.name, route.id, requestId, err);
    } catch (sendErr) {
      // Not even the error could be queued (ring overflow full): the client's request times out.
      this.#scene.logger.error({ err: sendErr, route: route.name }, 'cannot answer request');
    }
  }

  /** Answer a failed request with an ERROR frame: the thrown code, or a generic one (details only in the log). */
  #fail(sid: number, player: RuntimePlayer, routeName: string, opcode: number, requestId: number, err: unknown): void {
    player.dirty = true;
    let code: string = ErrorCodes.ENG_ERR_HANDLER_FAILED;
    let message = `${routeName} failed`;
    if (isCodedError(err)) {
      code = err.code;
      message = err.message;
    } else {
      this.#scene.logger.error({ err, route: routeName, playerId: player.id }, 'handler threw');
    }
    this.#out.send(FromScene.SEND, sid, 0, encodeErrorFrame(opcode, requestId, code, message));
  }
}
