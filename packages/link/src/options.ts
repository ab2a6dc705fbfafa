import { CodedError, ErrorCodes, silentLogger, type Logger } from '@gos/schema';
import { HANDSHAKE_MAX_FRAME_BYTES, MAX_NODE_ID_BYTES } from './handshake.js';
import { resolveLinkTls, type LinkTlsOptions, type ResolvedLinkTls } from './tls.js';

/** Options shared by {@link LinkServer} and {@link LinkClient}. */
export interface LinkOptions {
  /** This node's id (gateway id or engine id), told to the peer in the handshake. 1–255 UTF-8 bytes. */
  readonly nodeId: string;
  /** The cluster secret both sides must share; at least 16 bytes. Never sent on the wire. */
  readonly secret: string | Uint8Array;
  /** Pino-compatible logger. @default silentLogger */
  readonly logger?: Logger;
  /** Largest frame, header included, sent or accepted; a peer sending more is disconnected. @default 1048576 (1 MiB) */
  readonly maxFrameBytes?: number;
  /** Bytes that may wait to be written (socket buffer + this turn's batch) before `send` throws `LNK_ERR_QUEUE_FULL`. @default 67108864 (64 MiB) */
  readonly maxQueuedBytes?: number;
  /** A PING is sent after this long without sending; a peer silent for 3× this long is dropped. @default 2000 */
  readonly heartbeatMs?: number;
  /** Time allowed from connection (client: from dialling) to a completed handshake. @default 5000 */
  readonly handshakeTimeoutMs?: number;
  /** How long `close()` waits for pending writes to drain before destroying the socket. @default 2000 */
  readonly closeTimeoutMs?: number;
  /**
   * Run the link over TLS with the cluster CA: both sides present a certificate signed by it
   * and verify the other's (see {@link LinkTlsOptions}); both sides must agree. Failures are
   * `LNK_ERR_TLS`. @default null (plain TCP, for private networks)
   */
  readonly tls?: LinkTlsOptions | null;
}

/** Options of {@link LinkServer}. */
export interface LinkServerOptions extends LinkOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** TCP port; 0 picks an ephemeral one (read it from `server.port` after `start()`). @default 0 */
  readonly port?: number;
  /** Connections (handshaking or linked) beyond this are refused at once. @default 1024 */
  readonly maxPeers?: number;
}

/** Options of {@link LinkClient}. */
export interface LinkClientOptions extends LinkOptions {
  /** Host of the {@link LinkServer}. @default '127.0.0.1' */
  readonly host?: string;
  /** Port of the {@link LinkServer}. Required. */
  readonly port: number;
  /** When set, a server announcing another node id is refused (`LNK_ERR_AUTH`): guards against a new process reusing the address. */
  readonly expectedPeerId?: string;
  /** First reconnect delay; delays double per failed attempt, with jitter. @default 100 */
  readonly reconnectMinMs?: number;
  /** Longest reconnect delay. @default 5000 */
  readonly reconnectMaxMs?: number;
}

export interface ResolvedLinkOptions {
  readonly nodeId: string;
  readonly secret: Buffer;
  readonly logger: Logger;
  readonly maxFrameBytes: number;
  readonly maxQueuedBytes: number;
  readonly heartbeatMs: number;
  readonly handshakeTimeoutMs: number;
  readonly closeTimeoutMs: number;
  readonly tls: ResolvedLinkTls | null;
}

export interface ResolvedLinkServerOptions extends ResolvedLinkOptions {
  readonly host: string;
  readonly port: number;
  readonly maxPeers: number;
}

export interface ResolvedLinkClientOptions extends ResolvedLinkOptions {
  readonly host: string;
  readonly port: number;
  readonly expectedPeerId: string | null;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
}

export const LINK_DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  maxFrameBytes: 1024 * 1024,
  maxQueuedBytes: 64 * 1024 * 1024,
  heartbeatMs: 2000,
  handshakeTimeoutMs: 5000,
  closeTimeoutMs: 2000,
  maxPeers: 1024,
  reconnectMinMs: 100,
  reconnectMaxMs: 5000,
});

const MIN_SECRET_BYTES = 16;
const MIN_FRAME_BYTES = 1024;
const MAX_FRAME_BYTES = 2 ** 31 - 1;

function fail(name: string, problem: string): never {
  throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `link option "${name}" ${problem}`);
}

function int(o: object, name: string, fallback: number, min: number, max: number): number {
  const value = (o as Record<string, unknown>)[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function nodeIdOf(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0 || Buffer.byteLength(value, 'utf8') > MAX_NODE_ID_BYTES) {
    fail(name, `must be a non-empty string of at most ${MAX_NODE_ID_BYTES} UTF-8 bytes`);
  }
  return value;
}

function hostOf(value: unknown): string {
  if (value === undefined) return LINK_DEFAULTS.host;
  if (typeof value !== 'string' || value.length === 0) fail('host', 'must be a non-empty string');
  return value;
}

function resolveCommon(o: LinkOptions): ResolvedLinkOptions {
  if (typeof o !== 'object' || o === null) fail('options', 'must be an object');
  const nodeId = nodeIdOf(o.nodeId, 'nodeId');
  let secret: Buffer;
  if (typeof o.secret === 'string') secret = Buffer.from(o.secret, 'utf8');
  else if (o.secret instanceof Uint8Array) secret = Buffer.from(o.secret); // a copy: later edits by the caller do not leak in
  else fail('secret', 'must be a string or a Uint8Array');
  if (secret.length < MIN_SECRET_BYTES) fail('secret', `must be at least ${MIN_SECRET_BYTES} bytes`);
  if (o.logger !== undefined && (typeof o.logger !== 'object' || o.logger === null || typeof o.logger.child !== 'function')) {
    fail('logger', 'must be a pino-compatible logger');
  }
  const maxFrameBytes = int(o, 'maxFrameBytes', LINK_DEFAULTS.maxFrameBytes, Math.max(MIN_FRAME_BYTES, HANDSHAKE_MAX_FRAME_BYTES), MAX_FRAME_BYTES);
  const maxQueuedBytes = int(o, 'maxQueuedBytes', LINK_DEFAULTS.maxQueuedBytes, maxFrameBytes, Number.MAX_SAFE_INTEGER);
  return {
    nodeId,
    secret,
    logger: o.logger ?? silentLogger,
    maxFrameBytes,
    maxQueuedBytes,
    heartbeatMs: int(o, 'heartbeatMs', LINK_DEFAULTS.heartbeatMs, 10, 3_600_000),
    handshakeTimeoutMs: int(o, 'handshakeTimeoutMs', LINK_DEFAULTS.handshakeTimeoutMs, 1, 3_600_000),
    closeTimeoutMs: int(o, 'closeTimeoutMs', LINK_DEFAULTS.closeTimeoutMs, 0, 3_600_000),
    tls: resolveLinkTls(o.tls),
  };
}

/**
 * Validate, merge defaults, freeze. The caller's object is never mutated.
 * @throws CodedError `OPT_ERR_INVALID` naming the option; `LNK_ERR_TLS` for TLS material that cannot be used.
 */
export function resolveLinkServerOptions(o: LinkServerOptions): ResolvedLinkServerOptions {
  const common = resolveCommon(o);
  return Object.freeze({
    ...common,
    host: hostOf(o.host),
    port: int(o, 'port', LINK_DEFAULTS.port, 0, 65535),
    maxPeers: int(o, 'maxPeers', LINK_DEFAULTS.maxPeers, 1, 1_000_000),
  });
}

/**
 * Validate, merge defaults, freeze. The caller's object is never mutated.
 * @throws CodedError `OPT_ERR_INVALID` naming the option; `LNK_ERR_TLS` for TLS material that cannot be used.
 */
export function resolveLinkClientOptions(o: LinkClientOptions): ResolvedLinkClientOptions {
  const common = resolveCommon(o);
  if (o.port === undefined) fail('port', 'is required');
  const reconnectMinMs = int(o, 'reconnectMinMs', LINK_DEFAULTS.reconnectMinMs, 1, 3_600_000);
  return Object.freeze({
    ...common,
    host: hostOf(o.host),
    port: int(o, 'port', 0, 1, 65535),
    expectedPeerId: o.expectedPeerId === undefined ? null : nodeIdOf(o.expectedPeerId, 'expectedPeerId'),
    reconnectMinMs,
    reconnectMaxMs: int(o, 'reconnectMaxMs', LINK_DEFAULTS.reconnectMaxMs, reconnectMinMs, 3_600_000),
  });
}
