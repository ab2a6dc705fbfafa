/**
 * The metrics endpoint of engines and coordinators (`startMetricsServer`) binds its port
 * exclusively, like every listener: a taken port is `GW_ERR_PORT_IN_USE` naming the address (the
 * role then exits 1), not a configuration error (`OPT_ERR_INVALID`, exit 2), which stays for an
 * address that cannot be bound at all. (The processes: examples/demo/test/port-in-use.test.ts.)
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { ErrorCodes, isCodedError } from '@gos/schema';
import { startMetricsServer } from '../src/metrics-server.js';
import { captureLogger, listen } from './helpers.js';

function registry(): Registry {
  const r = new Registry();
  new Counter({ name: 'gos_test_total', help: 'a test counter', registers: [r] }).inc();
  return r;
}

test('a metrics port taken by another process → GW_ERR_PORT_IN_USE naming host and port', async () => {
  const { server, port } = await listen(createServer());
  try {
    await assert.rejects(startMetricsServer(registry(), '127.0.0.1', port, captureLogger()), (err: unknown) => {
      assert.ok(isCodedError(err));
      assert.equal(err.code, ErrorCodes.GW_ERR_PORT_IN_USE);
      assert.equal(err.message, `cannot serve metrics on 127.0.0.1:${port}: the port is in use`);
      return true;
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a second metrics server on a running one’s port is refused; the first keeps serving', async () => {
  const first = await startMetricsServer(registry(), '127.0.0.1', 0, captureLogger());
  try {
    const port = Number(new URL(first.url).port);
    await assert.rejects(startMetricsServer(registry(), '127.0.0.1', port, captureLogger()), { code: ErrorCodes.GW_ERR_PORT_IN_USE });
    const res = await fetch(first.url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^gos_test_total 1$/m);
  } finally {
    await first.close();
  }
});

test('an address that is not this machine’s stays a configuration error (OPT_ERR_INVALID)', async () => {
  // 192.0.2.0/24 is reserved for documentation: no interface has it.
  await assert.rejects(startMetricsServer(registry(), '192.0.2.1', 0, captureLogger()), (err: unknown) => {
    assert.ok(isCodedError(err));
    assert.equal(err.code, ErrorCodes.OPT_ERR_INVALID);
    assert.match(err.message, /^cannot serve metrics on 192\.0\.2\.1:0: /);
    return true;
  });
});
