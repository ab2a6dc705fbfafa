/**
 * The shape of a generated protocol module. The generator (`gos-gen`) writes one per YAML
 * protocol; the gateway, the engine and the client SDK read only these types.
 */
export interface Codec<T> {
  /** Message name in the YAML. */
  readonly name: string;
  /** Encode a plain object to FlatBuffer bytes. */
  encode(value: T): Uint8Array;
  /**
   * Decode FlatBuffer bytes to a plain object. Throws `SCH_ERR_BAD_PAYLOAD` when the bytes are
   * not a valid buffer of this type (FlatBuffers' JS runtime has no verifier: bounds are checked here).
   */
  decode(bytes: Uint8Array): T;
}

export interface RouteDef<Req = unknown, Res = unknown> {
  /** Stable numeric id: the frame opcode. */
  readonly id: number;
  /** Route name in the YAML: the handler's name. */
  readonly name: string;
  /** Scene type whose handler serves this route. */
  readonly scene: string;
  readonly request: Codec<Req>;
  /** Null for fire-and-forget routes: the engine acknowledges with an empty RESPONSE frame. */
  readonly response: Codec<Res> | null;
  /**
   * `idempotent: true` in the YAML: sending the request twice has the effect of sending it once,
   * so the client SDK sends it again by itself after a retryable error (`ErrorReply.retryable`).
   */
  readonly idempotent: boolean;
}

export interface PushDef<T = unknown> {
  readonly id: number;
  readonly name: string;
  readonly codec: Codec<T>;
}

/**
 * A message between scenes (`scene.call` / `scene.cast`), from the protocol's `rpc:` section:
 * its payload and answer travel as these messages, checked where they are decoded.
 */
export interface RpcDef<Req = unknown, Res = unknown> {
  /** The message name: the target's `calls` (or `casts`) handler. */
  readonly name: string;
  /** The scene type that handles it. */
  readonly target: string;
  readonly request: Codec<Req>;
  /** Null for a cast: no answer. */
  readonly response: Codec<Res> | null;
}

import type { SceneEntitiesDef } from './entities.js';

export interface Protocol {
  readonly namespace: string;
  readonly version: number;
  readonly routes: Readonly<Record<string, RouteDef>>;
  readonly pushes: Readonly<Record<string, PushDef>>;
  readonly routeById: ReadonlyMap<number, RouteDef>;
  readonly pushById: ReadonlyMap<number, PushDef>;
  /** Messages between scenes by target scene type, then by name (the YAML's `rpc:`); absent or empty when it has none. */
  readonly rpc?: Readonly<Record<string, Readonly<Record<string, RpcDef>>>>;
  /** Replicated entities by scene type (the YAML's `entities:`); absent or empty when it has none. */
  readonly entities?: Readonly<Record<string, SceneEntitiesDef>>;
}
