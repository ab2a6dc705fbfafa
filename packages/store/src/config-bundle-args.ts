/**
 * The arguments of `ConfigBundleStore.publish` (types.ts), checked in one place for both stores:
 * the values as the store writes them, or `OPT_ERR_INVALID` naming the bad one.
 */
import { invalid } from './common.js';

/** Largest bundle, in bytes of UTF-8 (16 MiB). */
export const MAX_BUNDLE_BYTES = 16 * 1024 * 1024;

/** A bundle's version: ASCII only (a content hash), so it needs no escaping in a key, a URL or a log line. */
const VERSION = /^[A-Za-z0-9_.-]{1,64}$/;

/** A `publish` call's bundle, checked; `bytes` is the content's size in UTF-8. */
export interface CheckedBundle {
  readonly version: string;
  readonly content: string;
  readonly bytes: number;
}

/**
 * The content is not parsed here: the engines check a bundle when they load it, and a 16 MiB
 * parse on the publishing side would only repeat that.
 */
export function checkBundle(version: unknown, content: unknown): CheckedBundle {
  if (typeof version !== 'string' || !VERSION.test(version)) throw invalid('version must be 1–64 characters of A–Z a–z 0–9 _ . -');
  if (typeof content !== 'string' || content.length === 0) throw invalid('content must be a non-empty string (the bundle as JSON text)');
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > MAX_BUNDLE_BYTES) throw invalid(`content must be at most ${MAX_BUNDLE_BYTES} bytes of UTF-8, got ${bytes}`);
  // MySQL's utf8mb4 cannot hold lone surrogates; refusing them keeps both stores identical.
  if (!content.isWellFormed()) throw invalid('content must be well-formed Unicode');
  return { version, content, bytes };
}
