/**
 * A listener never shares its port: a second gateway process on a running gateway's port, a
 * second engine on an engine's link port, or an engine or a coordinator whose metrics port is
 * taken, exits 1 at start with a one-line coded message. Before, uWS's SO_REUSEPORT let the second
 * gateway start, and the kernel split connections between them; a taken metrics port was a
 * configuration error (OPT_ERR_INVALID, exit 2).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, test } from 'node:test';
import { BIN_ENTRY, type LogLine } from '@gos/cluster';
import { runNode, testCluster } from './cluster-helpers.js';

const cluster = await testCluster({ leaseTtlSeconds: 3, persistIntervalMs: 1000 });
after(() => cluster.cleanup());

/** The process's fatal log line (pino JSON on stdout). */
function fatalLine(stdout: string): LogLine | undefined {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .find((l) => l.level === 60);
}

test('a second gateway process on a gateway’s port exits 1 with GW_ERR_PORT_IN_USE; the first keeps every request', { timeout: 60_000 }, async () => {
  const first = cluster.start('gateway', 'gateway-1');
  const http = String((await first.ready)['http']);
  const port = new URL(http).port;

  const second = await runNode([BIN_ENTRY.gateway, '--config', cluster.configFile, '--id', 'gateway-2'], { ...process.env, GOS_GATEWAY_PORT: port }, { killAfterMs: 20_000 });
  assert.equal(second.killed, false, `the second gateway kept running on the shared port\n${second.stdout}`);
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.equal(fatalLine(second.stdout)?.msg, `cannot start: GW_ERR_PORT_IN_USE: cannot listen on 127.0.0.1:${port}: the port is in use`);

  for (let i = 0; i < 10; i++) {
    const health = (await (await fetch(`${http}/healthz`)).json()) as { gatewayId: string };
    assert.equal(health.gatewayId, 'gateway-1');
  }
  assert.equal(first.running, true);
});

test('a second engine on an engine’s link port exits 1 with LNK_ERR_PORT_IN_USE', { timeout: 60_000 }, async () => {
  const first = cluster.start('engine', 'engine-1');
  const link = String((await first.ready)['link']);
  const port = link.slice(link.lastIndexOf(':') + 1);

  const second = await runNode([BIN_ENTRY.engine, '--config', cluster.configFile, '--id', 'engine-2'], { ...process.env, GOS_ENGINE_PORT: port }, { killAfterMs: 20_000 });
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.equal(fatalLine(second.stdout)?.msg, `cannot start: LNK_ERR_PORT_IN_USE: cannot listen on 127.0.0.1:${port}: the port is in use`);
  assert.equal(first.running, true);
});

for (const role of ['engine', 'coordinator'] as const) {
  test(`${role}: a metrics port in use → exit 1 with GW_ERR_PORT_IN_USE naming the address`, { timeout: 60_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const variable = role === 'engine' ? 'GOS_ENGINE_METRICS_PORT' : 'GOS_COORDINATOR_METRICS_PORT';
      const r = await runNode([BIN_ENTRY[role], '--config', cluster.configFile, '--id', `${role}-metrics`], { ...process.env, [variable]: String(port) }, { killAfterMs: 30_000 });
      assert.equal(r.killed, false, `still running with its metrics port taken\n${r.stdout}`);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(fatalLine(r.stdout)?.msg, `cannot start: GW_ERR_PORT_IN_USE: cannot serve metrics on 127.0.0.1:${port}: the port is in use`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
}
