/**
 * A tiny run of the real harness (a few clients, a few seconds, every target) so it cannot rot:
 * servers and load generator as separate processes, /proc accounting, the result files. No
 * timing assertions: only that every target served every client and the files are complete.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { ResultsFile } from '../src/report/results.js';
import { runBench } from './run-bench.js';

test('smoke: mmo-move with 20 clients against every target', { timeout: 180_000 }, async () => {
  const args = ['mmo-move', '--clients', '20', '--seconds', '2', '--warmup', '1', '--targets', 'project,project-embedded,colyseus,uws'];
  await runBench(args, async (out, stdout) => {
    assert.match(stdout, /project\/uws: CPU-µs\/msg ×/);

    const file = JSON.parse(await readFile(path.join(out, 'mmo-move.json'), 'utf8')) as ResultsFile;
    assert.equal(file.scenario, 'mmo-move');
    assert.equal(file.machine.cpus > 0, true);
    const labels = file.runs.map((r) => (r.target === 'project' ? `project-${r.shape}` : r.target)).sort();
    assert.deepEqual(labels, ['colyseus', 'project-cluster', 'project-embedded', 'uws']);
    for (const r of file.runs) {
      const what = `${r.target}/${r.shape ?? ''}`;
      assert.equal(r.clients, 20, what);
      assert.equal(r.failures, 0, `${what}: failures`);
      assert.ok(r.inPerSec > 0 && r.outPerSec > 0 && r.outBytesPerSec > 0, `${what}: traffic both ways`);
      assert.ok(r.ticksPerClientPerSec > 0, `${what}: ticks arrive`);
      assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms && r.maxMs >= r.p99Ms, `${what}: latency samples`);
      assert.ok(r.cpuPercent >= 0 && r.rssMb > 0, `${what}: /proc figures`);
    }
    const cluster = file.runs.find((r) => r.target === 'project' && r.shape === 'cluster')!;
    assert.ok(cluster.serverProcesses >= 2, 'gateway and engine are separate processes');
    const page = await readFile(path.join(out, 'mmo-move.html'), 'utf8');
    assert.match(page, /<svg/);
    assert.match(await readFile(path.join(out, 'mmo-move.md'), 'utf8'), /\| uws \| 20 \|/);
  });
});

test('smoke: idle-ccu with 30 clients against every target', { timeout: 180_000 }, async () => {
  await runBench(['idle-ccu', '--clients', '30', '--seconds', '1', '--warmup', '1', '--targets', 'project,colyseus,uws'], async (out) => {
    const file = JSON.parse(await readFile(path.join(out, 'idle-ccu.json'), 'utf8')) as ResultsFile;
    assert.equal(file.scenario, 'idle-ccu');
    assert.deepEqual(file.runs.map((r) => r.target).sort(), ['colyseus', 'project', 'uws']);
    for (const r of file.runs) {
      assert.equal(r.connected, 30, `${r.target}: every client joined`);
      assert.equal(r.failures, 0, `${r.target}: failures`);
      assert.equal(r.inPerSec, 0, `${r.target}: idle clients send nothing`);
      assert.ok(r.baselineRssMb > 0 && r.rssMb > 0, `${r.target}: /proc memory`);
    }
    assert.match(await readFile(path.join(out, 'idle-ccu.md'), 'utf8'), /kB per connection/);
  });
});

test('smoke: chat-fanout with 40 clients against every target', { timeout: 180_000 }, async () => {
  await runBench(['chat-fanout', '--clients', '40', '--seconds', '2', '--warmup', '1', '--targets', 'project,colyseus,uws'], async (out) => {
    const file = JSON.parse(await readFile(path.join(out, 'chat-fanout.json'), 'utf8')) as ResultsFile;
    assert.deepEqual(file.runs.map((r) => r.target).sort(), ['colyseus', 'project', 'uws']);
    for (const r of file.runs) {
      assert.equal(r.failures, 0, `${r.target}: failures`);
      assert.ok(r.inPerSec > 0, `${r.target}: lines were said`);
      // Every line reaches every client: deliveries ≈ lines × clients (a line said at the very end may miss the window).
      assert.ok(r.outPerSec >= r.inPerSec * 40 * 0.5, `${r.target}: ${r.outPerSec} deliveries/s for ${r.inPerSec} lines/s`);
      assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms, `${r.target}: delivery latency`);
    }
    assert.match(await readFile(path.join(out, 'chat-fanout.md'), 'utf8'), /deliveries\/s/);
  });
});

test('smoke: login-storm at 5 logins/s (targets without a login API are skipped)', { timeout: 180_000 }, async () => {
  await runBench(['login-storm', '--clients', '5', '--seconds', '2', '--warmup', '1', '--targets', 'project-embedded,uws'], async (out) => {
    const file = JSON.parse(await readFile(path.join(out, 'login-storm.json'), 'utf8')) as ResultsFile;
    assert.equal(file.runs.length, 1, 'uws has no login API: skipped');
    const r = file.runs[0]!;
    assert.equal(r.shape, 'embedded');
    assert.equal(r.failures, 0, `failures: ${JSON.stringify(r.failureSamples)}`);
    assert.ok(r.outPerSec > 0 && r.p50Ms > 0, 'logins completed, with latencies');
    assert.match(await readFile(path.join(out, 'login-storm.md'), 'utf8'), /Highest offered rate with p99 < 1 s/);
  });
});

test('smoke: reconnect-storm with 30 clients against every target', { timeout: 180_000 }, async () => {
  await runBench(['reconnect-storm', '--clients', '30', '--seconds', '10', '--warmup', '1', '--targets', 'project,colyseus,uws'], async (out) => {
    const file = JSON.parse(await readFile(path.join(out, 'reconnect-storm.json'), 'utf8')) as ResultsFile;
    assert.equal(file.scenario, 'reconnect-storm');
    assert.deepEqual(file.runs.map((r) => r.target).sort(), ['colyseus', 'project', 'uws']);
    for (const r of file.runs) {
      assert.equal(r.failures, 0, `${r.target}: failures ${JSON.stringify(r.failureSamples)}`);
      assert.equal(r.dropped, 30, `${r.target}: every client dropped`);
      assert.equal(r.reconnected, 30, `${r.target}: every client came back`);
      assert.ok(r.p50Ms > 0 && r.maxMs >= r.p50Ms && (r.stormSeconds ?? 0) > 0, `${r.target}: drop → back samples`);
    }
    assert.match(await readFile(path.join(out, 'reconnect-storm.md'), 'utf8'), /CPU-ms per reconnect/);
  });
});
