import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CodedError, ErrorCodes, cleanText } from '../src/index.js';

describe('cleanText', () => {
  it('removes C0, DEL and C1 controls, bidi embeddings, overrides and isolates', () => {
    assert.equal(cleanText('a\u0000b\u0007c\u001bd\u007fe\u0080f\u009fg'), 'abcdefg');
    const bidi = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
    assert.equal(cleanText(`x${bidi.join('y')}z`), `x${'y'.repeat(bidi.length - 1)}z`);
    assert.equal(cleanText('gpj.\u202eexe'), 'gpj.exe');
  });

  it('turns line breaks and tabs into spaces, trims the ends', () => {
    assert.equal(cleanText(' \tone\ntwo\r\nthree\u2028four\u2029five\u0085six\v\f '), 'one two  three four five six');
  });

  it('keeps printable text, emoji with joiners and directional marks', () => {
    const kept = 'héllo wörld ß → 😀 👩‍👩‍👧 \u200f\u05e9\u05dc\u05d5\u05dd\u200e ok';
    assert.equal(cleanText(kept), kept);
  });

  it('removes lone surrogates but keeps pairs', () => {
    assert.equal(cleanText('a\ud800b\udc00c😀'), 'abc😀');
  });

  it('cuts to maxLength code points after cleaning, without splitting a pair', () => {
    assert.equal(cleanText('\u0000abcdef', { maxLength: 3 }), 'abc');
    assert.equal(cleanText('😀😀😀', { maxLength: 2 }), '😀😀');
    assert.equal(cleanText('ab cd', { maxLength: 3 }), 'ab');
    assert.equal(cleanText('abc', { maxLength: 0 }), '');
    assert.equal(cleanText('abc', { maxLength: Infinity }), 'abc');
  });

  it('refuses a maxLength that is not a non-negative integer', () => {
    for (const maxLength of [-1, 1.5, Number.NaN]) {
      assert.throws(() => cleanText('x', { maxLength }), (err) => err instanceof CodedError && err.code === ErrorCodes.OPT_ERR_INVALID);
    }
  });
});
