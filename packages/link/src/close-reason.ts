import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { CodedError, ErrorCodes, type Logger } from '@gos/schema';
import { isTlsError } from './tls.js';

/** Close reasons logged as warnings: a misconfigured or misbehaving peer. */
const WARN_CODES: ReadonlySet<string> = new Set([
  ErrorCodes.LNK_ERR_AUTH,
  ErrorCodes.LNK_ERR_TLS,
  ErrorCodes.LNK_ERR_FRAME_TOO_LARGE,
  ErrorCodes.SCH_ERR_BAD_FRAME,
]);

/**
 * Why a link connection closed. The first reason known wins, so a deliberate close is not
 * overwritten by the echoes it causes; socket errors and ends are read in the light of how far
 * the TCP connect and the TLS handshake got.
 */
export class CloseReason {
  readonly #role: 'client' | 'server';
  readonly #tls: boolean;
  /** Names the peer in a TLS error. */
  readonly #describePeer: () => string;
  #connected: boolean;
  /** Over TLS: the TLS handshake is done (a server's sockets arrive so). */
  #secure: boolean;
  /** `undefined` until a reason is known, `null` for a deliberate close. */
  #reason: CodedError | null | undefined = undefined;

  constructor(socket: Socket, role: 'client' | 'server', describePeer: () => string) {
    this.#role = role;
    this.#tls = socket instanceof TLSSocket;
    this.#describePeer = describePeer;
    this.#connected = role === 'server';
    this.#secure = role === 'server';
    if (!this.#connected) socket.once('connect', () => (this.#connected = true));
    if (this.#tls && !this.#secure) socket.once('secureConnect', () => (this.#secure = true));
  }

  /** The socket is a TLS socket. */
  get tls(): boolean {
    return this.#tls;
  }

  /** Record `reason` unless one is known already; `null` for a deliberate close. */
  set(reason: CodedError | null): void {
    if (this.#reason === undefined) this.#reason = reason;
  }

  /** The socket emitted 'error'. */
  socketError(err: Error): void {
    // Over TLS, anything failing between the TCP connect and the end of the TLS handshake is
    // the TLS handshake failing (a server refusing our certificate resets the connection).
    if (this.#tls && this.#connected && (isTlsError(err) || !this.#secure)) {
      this.set(new CodedError(ErrorCodes.LNK_ERR_TLS, `TLS with ${this.#describePeer()} failed: ${err.message}`, { cause: err }));
      return;
    }
    this.set(
      this.#connected
        ? new CodedError(ErrorCodes.LNK_ERR_CLOSED, `link socket failed: ${err.message}`, { cause: err })
        : new CodedError(ErrorCodes.LNK_ERR_NOT_CONNECTED, `cannot connect: ${err.message}`, { cause: err }),
    );
  }

  /**
   * The peer ended the socket.
   * @param inHandshake the link handshake was not complete.
   * @param awaitingChallenge this client had not heard from the server yet.
   */
  peerEnded(inHandshake: boolean, awaitingChallenge: boolean): void {
    // With TLS 1.3 a client's TLS handshake completes before the server has checked its
    // certificate; a server refusing it just closes, before its CHALLENGE.
    if (inHandshake && this.#tls && this.#role === 'client' && awaitingChallenge) {
      this.set(new CodedError(ErrorCodes.LNK_ERR_TLS, "the server closed the connection before the link handshake: over TLS, most likely it refused this side's certificate (not signed by the cluster CA?)"));
      return;
    }
    this.set(
      inHandshake
        ? new CodedError(ErrorCodes.LNK_ERR_AUTH, 'peer closed the connection during the handshake')
        : new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'peer closed the link'),
    );
  }

  /** The socket is closed: the final reason (`null` for a deliberate close), logged. */
  settle(log: Logger): CodedError | null {
    this.set(new CodedError(ErrorCodes.LNK_ERR_CLOSED, 'link socket closed'));
    const reason = this.#reason ?? null;
    if (reason === null) log.debug('link closed');
    // A LinkClient logs its own attempts; on the server this is the only trace of a refused peer.
    else if (this.#role === 'server' && WARN_CODES.has(reason.code)) log.warn({ err: reason, code: reason.code }, 'link dropped');
    else log.debug({ err: reason, code: reason.code }, 'link closed');
    return reason;
  }
}
