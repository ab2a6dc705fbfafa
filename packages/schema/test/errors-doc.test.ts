import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CloseCode, CodedError, ErrorCodes, toErrorData } from '../src/index.js';

const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

test('every error code is documented in docs/errors.md, and nothing else is', () => {
  const documented = new Set([...doc.matchAll(/^\| `([A-Z]+_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
  for (const [name, code] of Object.entries(ErrorCodes)) {
    assert.equal(name, code, `${name} must equal its own name`);
    assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
  }
  for (const code of documented) assert.ok(code! in ErrorCodes, `docs/errors.md lists ${code}, which the code does not have`);
});

test('every close code is in the 4000–4999 range and documented', () => {
  for (const [name, code] of Object.entries(CloseCode)) {
    assert.ok(code >= 4000 && code <= 4999, `${name}=${code}`);
    assert.match(doc, new RegExp(`\\| ${code} \\| \`${name}\` \\|`), `${name} (${code}) missing from docs/errors.md`);
  }
});

test('errors cross boundaries as data and keep their code', () => {
  const err = new CodedError(ErrorCodes.ENG_ERR_QUEUE_FULL, 'full', { cause: new Error('x') });
  const data = structuredClone(err.toData());
  assert.deepEqual(data, { code: 'ENG_ERR_QUEUE_FULL', message: 'full' });
  assert.equal(CodedError.fromData(data).code, 'ENG_ERR_QUEUE_FULL');
  assert.deepEqual(toErrorData(new Error('plain'), 'FALLBACK'), { code: 'FALLBACK', message: 'plain' });
  assert.deepEqual(toErrorData('str', 'FALLBACK'), { code: 'FALLBACK', message: 'str' });
});
