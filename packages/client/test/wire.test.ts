import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCodes } from '@gos/schema';
import { ConnectionClosedError, socketUrl } from '../src/index.js';
import { MAX_REQUEST_ID, nextRequestId } from '../src/request-ids.js';

test('request ids count up, wrap around the u32 range and skip 0', () => {
  assert.equal(nextRequestId(0), 1);
  assert.equal(nextRequestId(41), 42);
  assert.equal(MAX_REQUEST_ID, 2 ** 32 - 1);
  assert.equal(nextRequestId(MAX_REQUEST_ID - 1), MAX_REQUEST_ID);
  assert.equal(nextRequestId(MAX_REQUEST_ID), 1);
});

test('socketUrl adds token and version, maps http(s) to ws(s) and defaults the path to /ws', () => {
  assert.equal(socketUrl('ws://127.0.0.1:3000/ws', 'a b&c', 3), 'ws://127.0.0.1:3000/ws?token=a+b%26c&v=3');
  assert.equal(socketUrl('http://host:80', 't', 1), 'ws://host/ws?token=t&v=1');
  assert.equal(socketUrl('https://host/', 't', 1), 'wss://host/ws?token=t&v=1');
  assert.equal(socketUrl('wss://host/game/ws?region=eu&token=old', 't', 2), 'wss://host/game/ws?region=eu&token=t&v=2');
  assert.throws(() => socketUrl('ftp://host', 't', 1), { code: ErrorCodes.OPT_ERR_INVALID });
});

test('ConnectionClosedError is a CLI_ERR_CLOSED CodedError carrying the close code', () => {
  const err = new ConnectionClosedError('closed', 4004, 'connected again');
  assert.equal(err.code, ErrorCodes.CLI_ERR_CLOSED);
  assert.equal(err.name, 'ConnectionClosedError');
  assert.equal(err.closeCode, 4004);
  assert.equal(err.closeReason, 'connected again');
  assert.deepEqual(err.toData(), { code: 'CLI_ERR_CLOSED', message: 'closed' });
});

test('the client error codes are named after themselves', () => {
  for (const code of ['CLI_ERR_TIMEOUT', 'CLI_ERR_CLOSED', 'CLI_ERR_HTTP'] as const) assert.equal(ErrorCodes[code], code);
});
