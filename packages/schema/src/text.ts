/**
 * Cleaning player-written text before it is shown to other players. Browser-safe.
 *
 * The codec guarantees strings are valid UTF-8; it does not judge what they say. Control
 * characters (a NUL cuts a C string short, an escape starts a terminal sequence) and
 * bidirectional overrides (U+202E shows the rest of a line, and what follows it, reversed) are
 * still valid text, so the scene that relays text decides, with {@link cleanText}.
 */
import { CodedError, ErrorCodes } from './errors.js';

export interface CleanTextOptions {
  /**
   * Longest result in code points (a surrogate pair is never split), counted after cleaning.
   * @default Infinity
   */
  readonly maxLength?: number;
}

/** Tab, LF, VT, FF, CR, NEL, and the Unicode line and paragraph separators: each becomes a space. */
const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
/**
 * Removed: the other C0 and C1 controls and DEL (`\p{Cc}`), bidirectional embeddings and
 * overrides (U+202A–U+202E) and isolates (U+2066–U+2069), and lone surrogates (`\p{Cs}` in a
 * `u` regex: a JS string can hold one, UTF-8 cannot carry it).
 */
const UNSAFE = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/gu;

/**
 * One line of player-written text (a chat line, a name, a title), safe to relay: line breaks and
 * tabs become spaces; other control characters (C0, DEL, C1), bidirectional embeddings,
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069) and lone surrogates are removed;
 * whitespace is trimmed at both ends; the result is cut to `maxLength` code points. Directional
 * marks (U+200E, U+200F, U+061C), joiners and every printable character are kept.
 * @throws CodedError `OPT_ERR_INVALID` when `maxLength` is not a non-negative integer or Infinity.
 */
export function cleanText(text: string, options: CleanTextOptions = {}): string {
  const maxLength = options.maxLength ?? Infinity;
  if (maxLength !== Infinity && !(Number.isInteger(maxLength) && maxLength >= 0)) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `cleanText: maxLength must be a non-negative integer or Infinity, got ${String(maxLength)}`);
  }
  const clean = text.replace(LINE_BREAKS, ' ').replace(UNSAFE, '').trim();
  // UTF-16 length bounds the code point count from above: most text needs no counting.
  if (clean.length <= maxLength) return clean;
  let out = '';
  let n = 0;
  for (const ch of clean) {
    if (n++ === maxLength) break;
    out += ch;
  }
  return out.trimEnd();
}
