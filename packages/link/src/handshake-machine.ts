import { CodedError, ErrorCodes } from '@gos/schema';
import { LinkFrameType, type LinkFrame } from './frame.js';
import {
  computeProof,
  decodeChallenge,
  decodeHello,
  encodeChallenge,
  encodeHello,
  newNonce,
  proofMatches,
} from './handshake.js';
import type { ResolvedLinkOptions } from './options.js';
import type { WriteBatcher } from './write-batcher.js';

/** The handshake frame this side waits for. */
type Step = 'hello' | 'challenge' | 'proof' | 'ready';

const EMPTY = new Uint8Array(0);

const HANDSHAKE_NAMES: Readonly<Record<number, string>> = {
  [LinkFrameType.HELLO]: 'HELLO',
  [LinkFrameType.CHALLENGE]: 'CHALLENGE',
  [LinkFrameType.PROOF]: 'PROOF',
  [LinkFrameType.READY]: 'READY',
};

/**
 * One side of the link handshake (HELLO → CHALLENGE → PROOF → READY, see handshake.ts): whose
 * turn it is, the nonces, the peer's proven node id, and the deadline. REJECT and closing are
 * the connection's.
 */
export class HandshakeMachine {
  readonly #role: 'client' | 'server';
  readonly #options: ResolvedLinkOptions;
  /** Client only: refuse a server announcing another node id. */
  readonly #expectedPeerId: string | null;
  readonly #writer: WriteBatcher;
  readonly #nonce = newNonce();
  #step: Step;
  #peerNonce: Buffer | null = null;
  #peerNodeId = '';
  #timer: NodeJS.Timeout | null = null;

  constructor(role: 'client' | 'server', options: ResolvedLinkOptions, expectedPeerId: string | null, writer: WriteBatcher) {
    this.#role = role;
    this.#options = options;
    this.#expectedPeerId = expectedPeerId;
    this.#writer = writer;
    this.#step = role === 'server' ? 'hello' : 'challenge';
  }

  /** The peer's node id; empty until announced. */
  get peerNodeId(): string {
    return this.#peerNodeId;
  }

  /** A client that has not heard from the server yet. */
  get awaitingChallenge(): boolean {
    return this.#step === 'challenge';
  }

  /** Arm the deadline, `onTimeout` called once if it passes; a client speaks first. */
  start(onTimeout: (reason: CodedError) => void): void {
    const timeoutMs = this.#options.handshakeTimeoutMs;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      onTimeout(new CodedError(ErrorCodes.LNK_ERR_AUTH, `handshake not completed within ${timeoutMs} ms`));
    }, timeoutMs);
    this.#timer.unref();

    if (this.#role === 'client') this.#writer.enqueue(LinkFrameType.HELLO, 0, encodeHello(this.#nonce, this.#options.nodeId));
  }

  /** Advance on the peer's frame (not REJECT); true when the handshake is complete. @throws CodedError `LNK_ERR_AUTH` */
  advance(frame: LinkFrame): boolean {
    const o = this.#options;
    switch (this.#step) {
      case 'hello': {
        expectType(frame, LinkFrameType.HELLO);
        const hello = decodeHello(frame.body);
        this.#peerNodeId = hello.nodeId;
        this.#peerNonce = hello.nonce;
        const proof = computeProof(o.secret, 'server', hello.nonce, this.#nonce, hello.nodeId, o.nodeId);
        this.#writer.enqueue(LinkFrameType.CHALLENGE, 0, encodeChallenge(this.#nonce, proof, o.nodeId));
        this.#step = 'proof';
        return false;
      }
      case 'challenge': {
        expectType(frame, LinkFrameType.CHALLENGE);
        const challenge = decodeChallenge(frame.body);
        if (this.#expectedPeerId !== null && challenge.nodeId !== this.#expectedPeerId) {
          throw new CodedError(ErrorCodes.LNK_ERR_AUTH, `server is "${challenge.nodeId}", expected "${this.#expectedPeerId}"`);
        }
        const expected = computeProof(o.secret, 'server', this.#nonce, challenge.nonce, o.nodeId, challenge.nodeId);
        if (!proofMatches(expected, challenge.proof)) {
          throw new CodedError(ErrorCodes.LNK_ERR_AUTH, 'server proof does not match: the cluster secrets differ');
        }
        this.#peerNodeId = challenge.nodeId;
        const proof = computeProof(o.secret, 'client', this.#nonce, challenge.nonce, o.nodeId, challenge.nodeId);
        this.#writer.enqueue(LinkFrameType.PROOF, 0, proof);
        this.#step = 'ready';
        return false;
      }
      case 'proof': {
        expectType(frame, LinkFrameType.PROOF);
        const expected = computeProof(o.secret, 'client', this.#peerNonce!, this.#nonce, this.#peerNodeId, o.nodeId);
        if (!proofMatches(expected, frame.body)) {
          throw new CodedError(ErrorCodes.LNK_ERR_AUTH, 'client proof does not match: the cluster secrets differ');
        }
        this.#writer.enqueue(LinkFrameType.READY, 0, EMPTY);
        return true;
      }
      case 'ready':
        expectType(frame, LinkFrameType.READY);
        return true;
    }
  }

  /** The handshake is complete: disarm the deadline and forget the peer's nonce. */
  finish(): void {
    this.#peerNonce = null;
    this.stop();
  }

  /** Disarm the deadline. */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

function expectType(frame: LinkFrame, type: number): void {
  if (frame.type !== type) {
    throw new CodedError(ErrorCodes.LNK_ERR_AUTH, `expected ${HANDSHAKE_NAMES[type] ?? type} in the handshake, got frame type ${frame.type}`);
  }
}
