import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { AppOptions } from 'uWebSockets.js';
import { CodedError, ErrorCodes } from '@gos/schema';

/** The gateway's certificate: it serves `https://` and `wss://` with it. */
export interface GatewayTlsOptions {
  /** PEM certificate file: the gateway's certificate first, then any intermediates. */
  readonly certFile: string;
  /** PEM private key file of the certificate. */
  readonly keyFile: string;
  /** Passphrase of an encrypted key. */
  readonly passphrase?: string;
}

export interface ResolvedGatewayTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly passphrase: string | null;
}

/** What the log says about a certificate in use. */
export interface CertificateSummary {
  readonly subject: string;
  readonly validTo: string;
  readonly fingerprint256: string;
}

/** @throws CodedError `OPT_ERR_INVALID` naming the bad field. */
export function resolveGatewayTls(value: GatewayTlsOptions | null | undefined): ResolvedGatewayTls | null {
  if (value === undefined || value === null) return null;
  const fail = (why: string): never => {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `gateway option "tls${why}`);
  };
  if (typeof value !== 'object') fail('" must be an object { certFile, keyFile, passphrase? }');
  for (const key of ['certFile', 'keyFile'] as const) if (typeof value[key] !== 'string' || value[key] === '') fail(`.${key}" must be a file path`);
  if (value.passphrase !== undefined && typeof value.passphrase !== 'string') fail('.passphrase" must be a string');
  return Object.freeze({ certFile: value.certFile, keyFile: value.keyFile, passphrase: value.passphrase ?? null });
}

/**
 * Check that the files make a usable certificate and key, as uWS would load them (uWS itself
 * only says "App construction failed"), and summarise the certificate.
 * @throws CodedError `GW_ERR_TLS` naming the file and the reason: missing or unreadable, not
 *   PEM, a key that does not match the certificate, a wrong or missing passphrase.
 */
export function checkTlsFiles(tls: ResolvedGatewayTls): CertificateSummary {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new CodedError(ErrorCodes.GW_ERR_TLS, `cannot read the TLS ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  const cert = read('certificate', tls.certFile);
  const key = read('key', tls.keyFile);
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(cert);
  } catch (err) {
    throw new CodedError(ErrorCodes.GW_ERR_TLS, `${tls.certFile} is not a PEM certificate: ${(err as Error).message}`, { cause: err });
  }
  try {
    createSecureContext({ cert, key, ...(tls.passphrase === null ? {} : { passphrase: tls.passphrase }) });
  } catch (err) {
    throw new CodedError(ErrorCodes.GW_ERR_TLS, `cannot use the key ${tls.keyFile} with the certificate ${tls.certFile}: ${(err as Error).message}`, { cause: err });
  }
  return { subject: parsed.subject.replaceAll('\n', ', '), validTo: parsed.validTo, fingerprint256: parsed.fingerprint256 };
}

/** The options of `uWS.SSLApp` for these files. */
export function sslAppOptions(tls: ResolvedGatewayTls): AppOptions {
  return { cert_file_name: tls.certFile, key_file_name: tls.keyFile, ...(tls.passphrase === null ? {} : { passphrase: tls.passphrase }) };
}
