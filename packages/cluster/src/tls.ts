import { readFileSync } from 'node:fs';
import type { LinkTlsOptions } from '@gos/link';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { ClusterConfig } from './config.js';

/**
 * The link's TLS material from `cluster.tls` (files read now), or null without it.
 * @throws CodedError `LNK_ERR_TLS` naming the key and the file that cannot be read.
 */
export function readLinkTls(config: ClusterConfig): LinkTlsOptions | null {
  const tls = config.cluster.tls;
  if (tls === undefined) return null;
  const read = (key: 'caFile' | 'certFile' | 'keyFile'): Buffer => {
    try {
      return readFileSync(tls[key]);
    } catch (err) {
      throw new CodedError(ErrorCodes.LNK_ERR_TLS, `cluster.tls.${key}: cannot read ${tls[key]}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
    }
  };
  return { ca: read('caFile'), cert: read('certFile'), key: read('keyFile'), ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }) };
}
