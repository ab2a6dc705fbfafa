import { CodedError, DEFAULT_MAX_FRAME_BYTES, ErrorCodes, silentLogger, type Logger, type Protocol } from '@gos/schema';
import type { Coordinator } from '@gos/coordinator';
import type { Store } from '@gos/store';
import type { ChatServiceOptions } from '@gos/chat';
import { Registry } from 'prom-client';
import { resolveLinkTls, type LinkTlsOptions, type LocalLinks } from '@gos/link';
import type { SessionStore } from './session/index.js';
import { resolveGatewayTls, type GatewayTlsOptions, type ResolvedGatewayTls } from './tls.js';

export interface GatewayLimits {
  /** Largest client frame in bytes, header included; larger closes with 4009 (beyond twice this, uWS drops the socket: 1006). @default 16384 */
  readonly maxFrameBytes?: number;
  /** Sustained frames per second per account (its sockets share them, across reconnects). @default 60 */
  readonly messagesPerSecond?: number;
  /** Frames an account may send in a burst above the rate. @default 120 */
  readonly messageBurst?: number;
  /**
   * After a socket is closed for flooding (4006), its account may not open a socket on this
   * gateway for this long (refused with 4006). @default 5000
   */
  readonly rateLimitCooldownMs?: number;
  /**
   * An address whose sockets were closed for flooding this many times within a cool-down is
   * cooled down too, whatever the account. @default 3
   */
  readonly addressStrikes?: number;
  /** Close a socket that sent nothing (not even a PING) for this long. @default 60000 */
  readonly idleTimeoutMs?: number;
  /** Close a socket whose unsent bytes exceed this (slow consumer). @default 1 MiB */
  readonly maxBackpressureBytes?: number;
  /** Largest HTTP request body. @default 4096 */
  readonly maxHttpBodyBytes?: number;
  /**
   * Frames a socket may send before it is routed to its engine (they are held and sent once
   * it is); more are answered `GW_ERR_NO_ENGINE` ("not routed yet"). At least the burst, so that
   * a client that sends at once on connect is not refused. @default 128
   */
  readonly maxFramesBeforeRoute?: number;
  /**
   * Requests (frames without `NO_REPLY`) a socket may have waiting for the engine's answer;
   * more are refused with `GW_ERR_TOO_MANY_PENDING`. @default 256
   */
  readonly maxPendingRequests?: number;
  /** Sustained auth API requests per second per client IP (register, login, guest). @default 50 */
  readonly authRequestsPerSecond?: number;
  /** Auth API requests a client IP may send in a burst above the rate. @default 200 */
  readonly authBurst?: number;
}

/** A scene id, `<type>:<instance>` (or a bare type); a type starts with a lower-case letter. */
export const SCENE_ID = /^[a-z][A-Za-z0-9_]{0,63}(:[A-Za-z0-9_.-]{1,64})?$/;

/** The chat's settings ({@link GatewayOptions.chat}): the backend, and the limits and hook of `ChatService` (@gos/chat). */
export type GatewayChatOptions = Pick<ChatServiceOptions, 'backend'> & Partial<Pick<ChatServiceOptions, 'rate' | 'maxLength' | 'retention' | 'held' | 'moderate'>>;

/** What {@link GatewayOptions.sceneForLogin} learns about the player logging in. */
export interface LoginAccount {
  readonly accountId: string;
  readonly username: string;
  readonly guest: boolean;
  /** The account's group (null for none, and for guests). */
  readonly groupId: string | null;
  /**
   * The scene the player was in when it was last saved (null for a new player, and when the
   * saved one is not a valid scene id): where login puts it back unless the hook says otherwise.
   */
  readonly lastSceneId: string | null;
}

export type SceneChooser = (account: LoginAccount) => string | Promise<string>;

export interface GatewayOptions {
  readonly gatewayId: string;
  /** Shared secret of the gateway ↔ engine links (at least 16 characters). */
  readonly clusterSecret: string;
  readonly coordinator: Coordinator;
  /** Accounts live here. */
  readonly store: Store;
  readonly sessions: SessionStore;
  /** The game's generated protocol: route ids and version. */
  readonly protocol: Protocol;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 3000; 0 picks a free port */
  readonly port?: number;
  /** WebSocket URL handed to players at login. @default `ws://<host>:<port>/ws` (`wss://` with `tls`) */
  readonly publicUrl?: string;
  /**
   * Serve `https://` and `wss://` with this certificate (docs/tls.md); `reloadTls()` loads the
   * files again without dropping sockets. Files that cannot be used fail `start()` with
   * `GW_ERR_TLS`. @default null (plain `http://` and `ws://`)
   */
  readonly tls?: GatewayTlsOptions | null;
  /**
   * Dial engines over TLS with the cluster CA (the engines' `linkTls` must be set too): this
   * gateway presents `cert` and accepts only engines whose certificate the CA signed. Material
   * that cannot be used throws `LNK_ERR_TLS` from the constructor. @default null (plain TCP)
   */
  readonly linkTls?: LinkTlsOptions | null;
  /**
   * Engines of this process (a `gateway+engine` member, the embedded `npm start`): this gateway
   * links to them in-process through these links (give the engine the same instance) and to
   * every other engine over TCP. @default null
   */
  readonly localLinks?: LocalLinks | null;
  /** Sockets this gateway is meant to hold, published with its load for gateway choice. @default 20000 */
  readonly capacity?: number;
  /**
   * Longest a drain (`drain()`, SIGTERM in a cluster) waits for its clients to move to the other
   * gateways before it closes the sockets left. @default 5000
   */
  readonly drainTimeoutMs?: number;
  /**
   * An operator asked this gateway to drain (`npm run status -- drain gateway-1`, a request in
   * the coordinator): the process entry stops the process as on SIGTERM (which drains). Null:
   * the gateway drains and closes itself. @default null
   */
  readonly onDrainRequest?: (() => void) | null;
  /**
   * Chat (docs/chat.md): the core routes chatSay, chatHistory and chatBlock, answered here, with
   * lines fanned out to every gateway through `backend` (a `RedisChatBackend` shared by the
   * cluster's gateways, or a `MemoryChatBackend` in one process; started and closed by its
   * owner). Null: those routes are refused with `GW_ERR_UNKNOWN_ROUTE`. @default null
   */
  readonly chat?: GatewayChatOptions | null;
  /**
   * Whether `POST /v1/auth/register` takes a `groupId` from the client. A group is what the chat's
   * group channel and the gateway affinity trust (docs/chat.md): a game whose groups are guilds
   * sets them itself (`store.setAccountGroup`) and leaves this off; a game whose groups only
   * gather players on a gateway may let clients choose. When off, a `groupId` in a registration
   * is refused with 400 `GW_ERR_INVALID_GROUP`. @default false
   */
  readonly clientGroups?: boolean;
  /** Scene a new player starts in. @default 'world:1' */
  readonly defaultSceneId?: string;
  /**
   * Choose the scene a new session starts in (sharding players into instances, by level, by
   * group, sending players back to town after a dungeon closed…). Returns a scene id
   * `<type>:<instance>`; when absent a session starts where the player was last saved
   * (`account.lastSceneId`), or in `defaultSceneId` for a new player. A throw or an invalid id
   * refuses the login with 500 `GW_ERR_INTERNAL`.
   */
  readonly sceneForLogin?: SceneChooser;
  /** Folder served at `/` (the demo's web client), or null. @default null */
  readonly staticDir?: string | null;
  readonly limits?: GatewayLimits;
  /**
   * A fire-and-forget input to a scene that takes inputs at its ticks waits on a TCP link to its
   * engine until this long before the scene's next tick, and leaves with the others in one write
   * (docs/link.md, "Inputs held for the tick"). Inputs within this long of the tick go at once.
   * 0: every input goes at once. In-process links deliver at once either way. @default 10
   */
  readonly inputHoldLeadMs?: number;
  /** scrypt cost (N). @default 16384 */
  readonly scryptCost?: number;
  readonly logger?: Logger;
  /**
   * Prometheus registry the gateway registers its metrics in and serves at `GET /metrics`
   * (docs/metrics.md). Pass the process's registry to serve the other roles' metrics and the
   * process metrics with them. @default a registry of its own
   */
  readonly metrics?: Registry;
}

export interface ResolvedLimits {
  readonly maxFrameBytes: number;
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  readonly idleTimeoutMs: number;
  readonly maxBackpressureBytes: number;
  readonly maxHttpBodyBytes: number;
  readonly maxFramesBeforeRoute: number;
  readonly maxPendingRequests: number;
  readonly rateLimitCooldownMs: number;
  readonly addressStrikes: number;
  readonly authRequestsPerSecond: number;
  readonly authBurst: number;
}

export interface ResolvedGatewayOptions {
  readonly gatewayId: string;
  readonly clusterSecret: string;
  readonly coordinator: Coordinator;
  readonly store: Store;
  readonly sessions: SessionStore;
  readonly protocol: Protocol;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string | null;
  readonly tls: ResolvedGatewayTls | null;
  readonly linkTls: LinkTlsOptions | null;
  readonly localLinks: LocalLinks | null;
  readonly capacity: number;
  readonly drainTimeoutMs: number;
  readonly onDrainRequest: (() => void) | null;
  readonly chat: GatewayChatOptions | null;
  readonly clientGroups: boolean;
  readonly defaultSceneId: string;
  readonly sceneForLogin: SceneChooser | null;
  readonly staticDir: string | null;
  readonly limits: ResolvedLimits;
  readonly inputHoldLeadMs: number;
  readonly scryptCost: number;
  readonly logger: Logger;
  readonly metrics: Registry;
}

function fail(option: string, why: string): never {
  throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `gateway option "${option}" ${why}`);
}

function int(name: string, value: number | undefined, fallback: number, min: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min) fail(name, `must be an integer ≥ ${min}, got ${String(value)}`);
  return v;
}

export function resolveGatewayOptions(o: GatewayOptions): ResolvedGatewayOptions {
  if (typeof o.gatewayId !== 'string' || o.gatewayId === '') fail('gatewayId', 'is required');
  if (typeof o.clusterSecret !== 'string' || o.clusterSecret.length < 16) fail('clusterSecret', 'must be at least 16 characters');
  for (const k of ['coordinator', 'store', 'sessions', 'protocol'] as const) if (o[k] === undefined) fail(k, 'is required');
  if (o.sceneForLogin !== undefined && typeof o.sceneForLogin !== 'function') fail('sceneForLogin', 'must be a function');
  if (o.defaultSceneId !== undefined && (typeof o.defaultSceneId !== 'string' || !SCENE_ID.test(o.defaultSceneId))) {
    fail('defaultSceneId', `must be a scene id like "world:1", got ${JSON.stringify(o.defaultSceneId)}`);
  }
  const l = o.limits ?? {};
  const scryptCost = int('scryptCost', o.scryptCost, 16384, 2);
  if ((scryptCost & (scryptCost - 1)) !== 0) fail('scryptCost', 'must be a power of two');
  return Object.freeze({
    gatewayId: o.gatewayId,
    clusterSecret: o.clusterSecret,
    coordinator: o.coordinator,
    store: o.store,
    sessions: o.sessions,
    protocol: o.protocol,
    host: o.host ?? '127.0.0.1',
    port: int('port', o.port, 3000, 0),
    publicUrl: o.publicUrl ?? null,
    tls: resolveGatewayTls(o.tls),
    linkTls: resolveLinkTls(o.linkTls),
    localLinks: o.localLinks ?? null,
    capacity: int('capacity', o.capacity, 20_000, 1),
    drainTimeoutMs: int('drainTimeoutMs', o.drainTimeoutMs, 5000, 0),
    onDrainRequest: o.onDrainRequest ?? null,
    chat: o.chat ?? null,
    clientGroups: o.clientGroups ?? false,
    defaultSceneId: o.defaultSceneId ?? 'world:1',
    sceneForLogin: o.sceneForLogin ?? null,
    staticDir: o.staticDir ?? null,
    limits: Object.freeze({
      maxFrameBytes: int('limits.maxFrameBytes', l.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 16),
      messagesPerSecond: int('limits.messagesPerSecond', l.messagesPerSecond, 60, 1),
      messageBurst: int('limits.messageBurst', l.messageBurst, 120, 1),
      idleTimeoutMs: int('limits.idleTimeoutMs', l.idleTimeoutMs, 60_000, 1000),
      maxBackpressureBytes: int('limits.maxBackpressureBytes', l.maxBackpressureBytes, 1 << 20, 1024),
      maxHttpBodyBytes: int('limits.maxHttpBodyBytes', l.maxHttpBodyBytes, 4096, 64),
      maxFramesBeforeRoute: int('limits.maxFramesBeforeRoute', l.maxFramesBeforeRoute, 128, 0),
      maxPendingRequests: int('limits.maxPendingRequests', l.maxPendingRequests, 256, 1),
      rateLimitCooldownMs: int('limits.rateLimitCooldownMs', l.rateLimitCooldownMs, 5000, 0),
      addressStrikes: int('limits.addressStrikes', l.addressStrikes, 3, 1),
      authRequestsPerSecond: int('limits.authRequestsPerSecond', l.authRequestsPerSecond, 50, 1),
      authBurst: int('limits.authBurst', l.authBurst, 200, 1),
    }),
    inputHoldLeadMs: int('inputHoldLeadMs', o.inputHoldLeadMs, 10, 0),
    scryptCost,
    logger: o.logger ?? silentLogger,
    metrics: o.metrics ?? new Registry(),
  });
}
