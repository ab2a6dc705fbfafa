import { CodedError, ErrorCodes, isCodedError, type Protocol, type RpcDef } from '@gos/schema';

/**
 * How the payload and the answer of a call (or cast) between scenes are written on the way:
 * a message the protocol's `rpc:` section declares for the target's scene type travels as that
 * message (its FlatBuffers bytes, base64), checked by its codec where it is decoded; any other
 * message travels as JSON.
 */
export class RpcPayloads {
  readonly #rpc: NonNullable<Protocol['rpc']>;
  /** This scene's type: what incoming messages are looked up under. */
  readonly #sceneType: string;

  constructor(protocol: Protocol, sceneType: string) {
    this.#rpc = protocol.rpc ?? {};
    this.#sceneType = sceneType;
  }

  /** The declared message `message` of `target`'s scene type, if any. */
  #outgoing(target: string, message: string): RpcDef | undefined {
    const colon = target.indexOf(':');
    const type = colon === -1 ? target : target.slice(0, colon);
    const byName = Object.hasOwn(this.#rpc, type) ? this.#rpc[type] : undefined;
    return byName !== undefined && Object.hasOwn(byName, message) ? byName[message] : undefined;
  }

  #incoming(message: string): RpcDef | undefined {
    const byName = Object.hasOwn(this.#rpc, this.#sceneType) ? this.#rpc[this.#sceneType] : undefined;
    return byName !== undefined && Object.hasOwn(byName, message) ? byName[message] : undefined;
  }

  /** The payload of a call (`cast` false) or cast to `target`, as text. @throws CodedError `OPT_ERR_INVALID` */
  request(target: string, message: string, payload: unknown, cast: boolean): string {
    const def = this.#outgoing(target, message);
    if (def === undefined) return json(payload, `the payload of ${message}`);
    if (cast !== (def.response === null)) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `${message} of ${def.target} is declared as a ${def.response === null ? 'cast' : 'call'} in the protocol's rpc section; use scene.${def.response === null ? 'cast' : 'call'}`);
    }
    return base64(def.request, payload, `the payload of ${message}`, ErrorCodes.OPT_ERR_INVALID);
  }

  /** The answer of a call this scene made, from its text. @throws CodedError `SCH_ERR_BAD_PAYLOAD` */
  answer(target: string, message: string, result: string): unknown {
    const def = this.#outgoing(target, message);
    if (def?.response === null || def === undefined) return parseJson(result, 'the answer');
    return def.response.decode(Buffer.from(result, 'base64'));
  }

  /** The payload of a call or cast this scene received, from its text. @throws CodedError `SCH_ERR_BAD_PAYLOAD` */
  incoming(message: string, payload: string): unknown {
    const def = this.#incoming(message);
    return def === undefined ? parseJson(payload, 'the payload') : def.request.decode(Buffer.from(payload, 'base64'));
  }

  /**
   * A JSON value given for incoming message `message` (the REPL's call), as its handler would
   * receive it: through the message's codec when the rpc section declares it (which checks it).
   * @throws CodedError `OPT_ERR_INVALID` when it is not that message
   */
  coerce(message: string, value: unknown): unknown {
    const def = this.#incoming(message);
    if (def === undefined) return value;
    try {
      return def.request.decode(def.request.encode(value));
    } catch (err) {
      throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `the payload is not a ${def.request.name}${isCodedError(err) ? `: ${err.message}` : ''}`, { cause: err });
    }
  }

  /** This scene's answer to a call it received, as text. @throws CodedError `SCH_ERR_BAD_PAYLOAD` */
  result(message: string, result: unknown): string {
    const def = this.#incoming(message);
    if (def?.response === null || def === undefined) return json(result, `the answer to ${message}`, ErrorCodes.SCH_ERR_BAD_PAYLOAD);
    return base64(def.response, result, `the answer to ${message}`, ErrorCodes.SCH_ERR_BAD_PAYLOAD);
  }
}

function json(value: unknown, what: string, code: string = ErrorCodes.OPT_ERR_INVALID): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    throw new CodedError(code, `${what} cannot be sent as JSON`, { cause: err });
  }
  if (text === undefined) throw new CodedError(code, `${what} cannot be sent as JSON`);
  return text;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CodedError(ErrorCodes.SCH_ERR_BAD_PAYLOAD, `${what} is not JSON`, { cause: err });
  }
}

function base64(codec: RpcDef['request'], value: unknown, what: string, code: string): string {
  try {
    const bytes = codec.encode(value);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  } catch (err) {
    throw new CodedError(code, `${what} is not a ${codec.name}${isCodedError(err) ? `: ${err.message}` : ''}`, { cause: err });
  }
}
