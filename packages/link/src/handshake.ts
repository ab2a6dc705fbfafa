import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CodedError, ErrorCodes } from '@gos/schema';

/**
 * Link protocol version carried in HELLO and CHALLENGE; a mismatch refuses the handshake.
 * 2: the control bodies (JOIN, KICK, JOINED, JOIN_FAILED) are FlatBuffers tables, not JSON.
 * 4: CELLS and INTEREST (entity replication, docs/aoi.md).
 */
export const LINK_PROTOCOL_VERSION = 5;
export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;
/** Longest node id, in UTF-8 bytes (its length travels as a u8). */
export const MAX_NODE_ID_BYTES = 255;
/** Before the handshake completes no frame may be larger than this (header included). */
export const HANDSHAKE_MAX_FRAME_BYTES = 512;
/** Longest REJECT reason sent, in bytes. */
const MAX_REASON_BYTES = 200;

// Distinct labels make a server proof useless as a client proof (no reflection attack).
const SERVER_LABEL = Buffer.from('gos-link/1 server proof\0');
const CLIENT_LABEL = Buffer.from('gos-link/1 client proof\0');

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

/**
 * HMAC-SHA256(secret, label ‖ clientNonce ‖ serverNonce ‖ len ‖ clientId ‖ len ‖ serverId).
 * Both nonces are fresh per connection, so a recorded proof cannot be replayed; both node ids
 * are bound, so a proof for one pair says nothing about another.
 */
export function computeProof(
  secret: Buffer,
  side: 'client' | 'server',
  clientNonce: Buffer,
  serverNonce: Buffer,
  clientId: string,
  serverId: string,
): Buffer {
  const mac = createHmac('sha256', secret);
  mac.update(side === 'server' ? SERVER_LABEL : CLIENT_LABEL);
  mac.update(clientNonce);
  mac.update(serverNonce);
  mac.update(lengthPrefixed(clientId));
  mac.update(lengthPrefixed(serverId));
  return mac.digest();
}

/** Constant-time comparison; a length mismatch is a plain `false`. */
export function proofMatches(expected: Buffer, received: Uint8Array): boolean {
  return received.byteLength === expected.length && timingSafeEqual(expected, received);
}

function lengthPrefixed(id: string): Buffer {
  const bytes = Buffer.from(id, 'utf8');
  return Buffer.concat([Buffer.of(bytes.length), bytes]);
}

export interface Hello {
  readonly version: number;
  readonly nonce: Buffer;
  readonly nodeId: string;
}

export interface Challenge extends Hello {
  readonly proof: Buffer;
}

export function encodeHello(nonce: Buffer, nodeId: string): Buffer {
  const id = Buffer.from(nodeId, 'utf8');
  return Buffer.concat([Buffer.of(LINK_PROTOCOL_VERSION), nonce, Buffer.of(id.length), id]);
}

export function encodeChallenge(nonce: Buffer, proof: Buffer, nodeId: string): Buffer {
  const id = Buffer.from(nodeId, 'utf8');
  return Buffer.concat([Buffer.of(LINK_PROTOCOL_VERSION), nonce, proof, Buffer.of(id.length), id]);
}

export function encodeReject(reason: string): Buffer {
  return Buffer.from(reason, 'utf8').subarray(0, MAX_REASON_BYTES);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** @throws CodedError `LNK_ERR_AUTH` when the body is not a HELLO of this protocol version. */
export function decodeHello(body: Buffer): Hello {
  const version = readVersion(body);
  const nonce = body.subarray(1, 1 + NONCE_BYTES);
  const nodeId = readNodeId(body, 1 + NONCE_BYTES, 'HELLO');
  return { version, nonce, nodeId };
}

/** @throws CodedError `LNK_ERR_AUTH` when the body is not a CHALLENGE of this protocol version. */
export function decodeChallenge(body: Buffer): Challenge {
  const version = readVersion(body);
  const nonce = body.subarray(1, 1 + NONCE_BYTES);
  const proof = body.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + PROOF_BYTES);
  const nodeId = readNodeId(body, 1 + NONCE_BYTES + PROOF_BYTES, 'CHALLENGE');
  return { version, nonce, proof, nodeId };
}

export function decodeReject(body: Buffer): string {
  return body.toString('utf8', 0, Math.min(body.length, MAX_REASON_BYTES));
}

function readVersion(body: Buffer): number {
  const version = body[0];
  if (version !== LINK_PROTOCOL_VERSION) {
    throw new CodedError(
      ErrorCodes.LNK_ERR_AUTH,
      `link protocol version ${String(version)} is not ${LINK_PROTOCOL_VERSION}`,
    );
  }
  return version;
}

function readNodeId(body: Buffer, at: number, what: string): string {
  const length = body[at];
  if (length === undefined || length === 0 || body.length !== at + 1 + length) {
    throw new CodedError(ErrorCodes.LNK_ERR_AUTH, `malformed ${what}`);
  }
  try {
    return strictUtf8.decode(body.subarray(at + 1));
  } catch (err) {
    throw new CodedError(ErrorCodes.LNK_ERR_AUTH, `malformed ${what}: node id is not UTF-8`, { cause: err });
  }
}
