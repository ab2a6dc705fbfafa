import { X509Certificate } from 'node:crypto';
import { createSecureContext, type ConnectionOptions, type SecureContextOptions, type TlsOptions } from 'node:tls';
import { CodedError, ErrorCodes } from '@gos/schema';

/**
 * TLS for the link, for networks that are not private: each side presents a certificate
 * signed by the cluster CA and refuses a peer whose certificate is not (the engine asks the
 * gateway for its certificate). The HMAC handshake with the cluster secret still runs inside.
 */
export interface LinkTlsOptions {
  /** The cluster CA, PEM (one or more certificates): the only issuer accepted from the peer. */
  readonly ca: string | Uint8Array;
  /**
   * This node's certificate, PEM (its chain, leaf first). An engine's must name the host
   * gateways dial (its advertised host) in its subject alternative names.
   */
  readonly cert: string | Uint8Array;
  /** The certificate's private key, PEM. */
  readonly key: string | Uint8Array;
  /** Passphrase of an encrypted key. */
  readonly passphrase?: string;
}

export interface ResolvedLinkTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly passphrase: string | undefined;
}

function pem(name: string, value: unknown): Buffer {
  if (typeof value === 'string' && value !== '') return Buffer.from(value, 'utf8');
  // A copy: later edits by the caller do not leak in.
  if (value instanceof Uint8Array && value.byteLength > 0) return Buffer.from(value);
  throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `link option "tls.${name}" must be PEM text or bytes`);
}

/**
 * Validate and copy the TLS options; null when there are none.
 * @throws CodedError `OPT_ERR_INVALID` for a wrong shape; `LNK_ERR_TLS` when the CA is not a
 *   certificate or the certificate and key cannot be used together (not PEM, mismatched, a
 *   wrong passphrase).
 */
export function resolveLinkTls(value: LinkTlsOptions | null | undefined): ResolvedLinkTls | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object') throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'link option "tls" must be an object { ca, cert, key }');
  if (value.passphrase !== undefined && typeof value.passphrase !== 'string') {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, 'link option "tls.passphrase" must be a string');
  }
  const resolved: ResolvedLinkTls = Object.freeze({
    ca: pem('ca', value.ca),
    cert: pem('cert', value.cert),
    key: pem('key', value.key),
    passphrase: value.passphrase,
  });
  // Node accepts a CA that is not a certificate and then trusts nobody: say so now.
  try {
    new X509Certificate(resolved.ca);
  } catch (err) {
    throw new CodedError(ErrorCodes.LNK_ERR_TLS, `link TLS: the cluster CA is not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  try {
    createSecureContext(secureContextOptions(resolved));
  } catch (err) {
    throw new CodedError(ErrorCodes.LNK_ERR_TLS, `link TLS: cannot use the certificate and key: ${(err as Error).message}`, { cause: err });
  }
  return resolved;
}

function secureContextOptions(t: ResolvedLinkTls): SecureContextOptions {
  return { ca: t.ca, cert: t.cert, key: t.key, ...(t.passphrase === undefined ? {} : { passphrase: t.passphrase }) };
}

/** The engine's side: present its certificate, require the gateway's, both checked against the CA. */
export function tlsServerOptions(t: ResolvedLinkTls, handshakeTimeoutMs: number): TlsOptions {
  return { ...secureContextOptions(t), requestCert: true, rejectUnauthorized: true, handshakeTimeout: handshakeTimeoutMs, minVersion: 'TLSv1.2' };
}

/** The gateway's side: present its certificate, check the engine's against the CA and the host dialled. */
export function tlsClientOptions(t: ResolvedLinkTls): ConnectionOptions {
  return { ...secureContextOptions(t), rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}

/** OpenSSL's certificate verification results, as Node reports them in `err.code`. */
const VERIFY_CODE = /CERT|ISSUER|SIGNATURE|_CA$|^INVALID_PURPOSE$|^HOSTNAME_MISMATCH$/;

/** Whether a socket error comes from TLS (a certificate refused, the TLS protocol), not the network. */
export function isTlsError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_') || VERIFY_CODE.test(code));
}
