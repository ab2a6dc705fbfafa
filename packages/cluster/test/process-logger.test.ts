import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCodedError } from '@gos/schema';
import { chooseLogFormat } from '../src/index.js';

test('chooseLogFormat: pretty on a terminal, JSON elsewhere, LOG_FORMAT wins', () => {
  assert.equal(chooseLogFormat({ isTTY: true }), 'pretty');
  assert.equal(chooseLogFormat({ isTTY: false }), 'json');
  assert.equal(chooseLogFormat({ isTTY: true, logFormat: '' }), 'pretty');
  assert.equal(chooseLogFormat({ isTTY: true, logFormat: 'json' }), 'json');
  assert.equal(chooseLogFormat({ isTTY: false, logFormat: 'pretty' }), 'pretty');
  assert.throws(
    () => chooseLogFormat({ isTTY: true, logFormat: 'JSON' }),
    (err) => isCodedError(err) && err.code === 'OPT_ERR_INVALID' && err.message === 'LOG_FORMAT must be json or pretty, got "JSON"',
  );
});
