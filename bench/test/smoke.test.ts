/**
 * A tiny run of the real harness (a few clients, a few seconds, every target) so it cannot rot:
 * servers and load generator as separate processes, /proc accounting, the result files. No
 * timing assertions: only that every target served every client and the files are complete.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ResultsFile } from '../src/report/results.js';
import type { SoakResultsFile } from '../src/soak.js';
import type { TimersResultsFile } from '../src/timers.js';
import type { LeaderboardResultsFile } from '../src/leaderboard.js';
import type { PlayerLogsResultsFile } from '../src/player-logs.js';
import type { AoiResultsFile } from '../src/aoi.js';
import type { AoiTickResultsFile } from '../src/aoi-tick.js';
import { runBench } from './run-bench.js';

test('smoke: mmo-move with 20 clients against every target', { timeout: 180_000 }, async () => {
  const args = ['mmo-move', '--clients', '20', '--seconds', '2', '--warmup', '1', '--targets', 'project,project-fat,project-embedded,colyseus,uws,uws-worker'];
  await runBench(args, async (out, stdout) => {
    assert.match(stdout, /project\/uws: CPU-µs\/msg ×/);

    const file = JSON.parse(await readFile(path.join(out, 'mmo-move.json'), 'utf8')) as ResultsFile;
    assert.equal(file.scenario, 'mmo-move');
    assert.equal(file.machine.cpus > 0, true);
    const labels = file.runs.map((r) => (r.target === 'project' ? `project-${r.shape}` : r.variant === undefined ? r.target : `${r.target}-${r.variant}`)).sort();
    assert.deepEqual(labels, ['colyseus', 'project-cluster', 'project-embedded', 'project-fat', 'uws', 'uws-worker']);
    assert.match(stdout, /project-fat\/uws-worker: CPU-µs\/msg ×/, 'the fat shape against its calibration');
    for (const r of file.runs) {
      const what = `${r.target}/${r.shape ?? ''}`;
      assert.equal(r.clients, 20, what);
      assert.equal(r.failures, 0, `${what}: failures`);
      assert.ok(r.inPerSec > 0 && r.outPerSec > 0 && r.outBytesPerSec > 0, `${what}: traffic both ways`);
      // Nine clients in ten only count their ticks (counting clients): an average above 5 a second needs their counts too.
      assert.ok(r.ticksPerClientPerSec > 5, `${what}: ticks arrive and are counted, the counting clients' too (${r.ticksPerClientPerSec} a client a second)`);
      assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms && r.maxMs >= r.p99Ms, `${what}: latency samples`);
      assert.ok(r.cpuPercent >= 0 && r.rssMb > 0, `${what}: /proc figures`);
    }
    const cluster = file.runs.find((r) => r.target === 'project' && r.shape === 'cluster')!;
    assert.ok(cluster.serverProcesses >= 2, 'gateway and engine are separate processes');
    assert.equal(cluster.tcpFrameShare, 1, 'separate processes: every frame over TCP');
    for (const shape of ['fat', 'embedded']) {
      const one = file.runs.find((r) => r.target === 'project' && r.shape === shape)!;
      assert.equal(one.serverProcesses, 1, `${shape}: one process`);
      assert.equal(one.tcpFrameShare, 0, `${shape}: every frame in-process`);
    }
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

test('smoke: timers with 2,000 durable timers pending, 2 s phases', { timeout: 180_000 }, async () => {
  await runBench(['timers', '--timers', '2000', '--fires', '500', '--seconds', '2', '--warmup', '0', '--persist-ms', '1000'], async (out, stdout) => {
    assert.match(stdout, /2000 timers pending: tick p99 /);
    const file = JSON.parse(await readFile(path.join(out, 'timers.json'), 'utf8')) as TimersResultsFile;
    assert.equal(file.scenario, 'timers');
    assert.equal(file.runs.length, 1);
    const r = file.runs[0]!;
    assert.equal(r.pendingTimers, 2000);
    assert.ok(r.ticks > 0 && r.baselineTicks > 0, 'both phases measured ticks');
    assert.ok(r.firings > 0, 'timers fired during the measured phase');
    assert.ok(r.tickP99Ms > 0 && r.baselineTickP99Ms > 0 && r.lateP99Ms >= 0);
    assert.match(await readFile(path.join(out, 'timers.md'), 'utf8'), /pending timers/);
    assert.match(await readFile(path.join(out, 'timers.html'), 'utf8'), /<svg/);
  });
});

test('smoke: leaderboard with boards of 2,000 and 5,000 members in Redis, 1 s an operation', { timeout: 180_000 }, async () => {
  await runBench(['leaderboard', '--members', '2000,5000', '--seconds', '1'], async (out, stdout) => {
    assert.match(stdout, /5000 members, around-me ×1: p99 /);
    const file = JSON.parse(await readFile(path.join(out, 'leaderboard.json'), 'utf8')) as LeaderboardResultsFile;
    assert.equal(file.scenario, 'leaderboard');
    assert.deepEqual(file.fills.map((f) => f.members), [2000, 5000]);
    assert.ok(file.fills.every((f) => f.submitsPerSec > 0 && f.redisBytesPerMember > 0));
    assert.deepEqual([...new Set(file.runs.map((r) => r.op))], ['rank', 'around-me', 'page', 'update']);
    assert.equal(file.runs.length, 2 * 4 * 2, 'two sizes × four operations × two concurrencies');
    for (const r of file.runs) assert.ok(r.ops > 0 && r.opsPerSec > 0 && r.p99Ms >= r.p50Ms && r.p50Ms > 0, `${r.members} ${r.op} ×${r.concurrency}`);
    assert.match(await readFile(path.join(out, 'leaderboard.md'), 'utf8'), /\| 5,000 \| around-me \| 1 \|/);
    assert.match(await readFile(path.join(out, 'leaderboard.html'), 'utf8'), /<svg/);
  });
});

test('smoke: player-logs at 200 and 2,000 events a second, 2 s phases', { timeout: 180_000 }, async () => {
  await runBench(['player-logs', '--rates', '200,2000', '--seconds', '2', '--warmup', '1'], async (out, stdout) => {
    assert.match(stdout, /2000 player-log events\/s: tick p99 /);
    const file = JSON.parse(await readFile(path.join(out, 'player-logs.json'), 'utf8')) as PlayerLogsResultsFile;
    assert.equal(file.scenario, 'player-logs');
    assert.deepEqual(file.runs.map((r) => r.eventsPerSec), [0, 200, 2000]);
    assert.equal(file.runs[0]?.writtenPerSec, 0, 'the baseline logs nothing');
    for (const r of file.runs.slice(1)) {
      assert.ok(r.writtenPerSec > 0 && r.ticks > 0 && r.tickP99Ms >= r.tickP50Ms, `${r.eventsPerSec}/s: events reached the store, ticks measured`);
      assert.equal(r.dropped, 0);
    }
    assert.match(await readFile(path.join(out, 'player-logs.md'), 'utf8'), /events\/s appended/);
    assert.match(await readFile(path.join(out, 'player-logs.html'), 'utf8'), /<svg/);
  });
});

test('smoke: soak with 20 clients and 5 hostile sockets for 20 s, memory probed every 4 s after full collections', { timeout: 180_000 }, async () => {
  await runBench(['soak', '--clients', '20', '--minutes', '0.34', '--sample-seconds', '4', '--hostile', '5'], async (out, stdout) => {
    assert.match(stdout, /project-embedded N=20, 0\.34 min: RSS /);
    const file = JSON.parse(await readFile(path.join(out, 'soak.json'), 'utf8')) as SoakResultsFile;
    assert.equal(file.scenario, 'soak');
    assert.equal(file.runs.length, 1, 'project-embedded by default');
    const r = file.runs[0]!;
    assert.equal(r.shape, 'embedded');
    assert.equal(r.collected, true, 'the server ran with --expose-gc');
    assert.equal(r.errors, 0, `errors: ${JSON.stringify(r.errorSamples)}`);
    assert.ok(r.samples.length >= 5, `a sample every 4 s: ${r.samples.length}`);
    assert.ok(r.samples.every((s) => s.rssMb > 0 && s.heapMb > 0), 'every sample has RSS and heap');
    assert.ok(r.resumes >= 1, 'clients dropped and resumed their sessions');
    assert.ok(r.moves > 0 && r.rssStartMb > 0 && r.heapEndMb > 0);
    // The hostile sockets threw their frames, were answered with coded errors, and some were closed and came back.
    const h = r.hostile;
    assert.ok(h !== undefined, 'the hostile sockets reported');
    assert.equal(h.sockets, 5);
    assert.ok(h.frames >= 5 * 20 * 15, `${h.frames} hostile frames`);
    assert.ok((h.errorsByCode['SCH_ERR_BAD_PAYLOAD'] ?? 0) > 0, `errors: ${JSON.stringify(h.errorsByCode)}`);
    assert.equal(h.errorsByCode['ENG_ERR_QUEUE_FULL'], undefined, 'no queue overflow under hostile frames');
    assert.ok((h.closesByCode['4008'] ?? 0) >= 1 && h.reopened >= 1, `closes: ${JSON.stringify(h.closesByCode)}, reopened ${h.reopened}`);
    assert.deepEqual(file.settings.hostile, { sockets: 5, framesPerSecond: 20 });
    const md = await readFile(path.join(out, 'soak.md'), 'utf8');
    assert.match(md, /hostile sockets/);
    assert.match(await readFile(path.join(out, 'soak.md'), 'utf8'), /RSS growth %/);
    assert.match(await readFile(path.join(out, 'soak.html'), 'utf8'), /<svg/);
  });
});

test('uws-worker, the calibration of the fat-process shape, plays mmo-move only', { timeout: 30_000 }, () => {
  const bench = fileURLToPath(new URL('../bin/bench.js', import.meta.url));
  const res = spawnSync(process.execPath, [bench, 'idle-ccu', '--targets', 'uws,uws-worker'], { encoding: 'utf8' });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /uws-worker plays mmo-move only, not idle-ccu/);
});

test('soak refuses a target without the memory probe', { timeout: 30_000 }, async () => {
  const bench = fileURLToPath(new URL('../bin/bench.js', import.meta.url));
  const res = spawnSync(process.execPath, [bench, 'soak', '--targets', 'uws'], { encoding: 'utf8' });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /soak runs this framework's targets only/);
});

test('smoke: mmo-aoi with 40 clients and 200 NPCs, this framework against the whole-map broadcast, spread and in a crowd', { timeout: 300_000 }, async () => {
  await runBench(['mmo-aoi', '--clients', '40', '--npcs', '200', '--seconds', '3', '--warmup', '2', '--targets', 'project-embedded,uws,uws-filter,colyseus-uws', '--layouts', 'mixed,crowd'], async (out) => {
    const file = JSON.parse(await readFile(path.join(out, 'mmo-aoi.json'), 'utf8')) as AoiResultsFile;
    assert.equal(file.scenario, 'mmo-aoi');
    assert.deepEqual(file.runs.map((r) => `${r.target} ${r.layout}`).sort(), ['colyseus crowd', 'colyseus mixed', 'project crowd', 'project mixed', 'uws-broadcast crowd', 'uws-broadcast mixed', 'uws-filter crowd', 'uws-filter mixed']);
    // Colyseus with a StateView per client: in a crowd each client's view holds everyone.
    const colyseusCrowd = file.runs.find((r) => r.target === 'colyseus' && r.layout === 'crowd')!;
    assert.equal(colyseusCrowd.transport, 'uws');
    assert.ok(colyseusCrowd.entitiesPerClient! >= 30, `a Colyseus crowd client's view holds ${colyseusCrowd.entitiesPerClient}`);
    // Filtered per client, a spread-out client hears fewer players than the whole-map broadcast sends.
    const filtered = file.runs.find((r) => r.target === 'uws-filter' && r.layout === 'mixed')!;
    assert.ok(filtered.bytesPerClientPerSec < file.runs.find((r) => r.target === 'uws-broadcast' && r.layout === 'mixed')!.bytesPerClientPerSec, 'the filter sends less than the broadcast');
    // In a crowd every client is in one cell: each knows (nearly) every other player, spread out far fewer.
    const crowd = file.runs.find((r) => r.target === 'project' && r.layout === 'crowd')!;
    assert.ok(crowd.entitiesPerClient! >= 30, `a crowd client knows ${crowd.entitiesPerClient} entities`);
    for (const r of file.runs) {
      assert.equal(r.connected, 40, `${r.target}: every client on the map`);
      assert.equal(r.failures, 0, `${r.target}: failures`);
      assert.ok(r.bytesPerClientPerSec > 0 && r.cpuUsPerClientPerSec >= 0, `${r.target}: traffic and CPU`);
      assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms, `${r.target}: a move comes back to its sender`);
      // Tick times: this framework's histogram and the bare server's list; the Colyseus room does not report them.
      if (r.target === 'colyseus') assert.equal(r.tickP99Ms, null);
      else assert.ok(r.tickP99Ms !== null && r.tickP99Ms >= 0, `${r.target}: tick times`);
      assert.ok(r.entitiesPerClient !== null && r.entitiesPerClient > 0, `${r.target}: entities seen`);
    }
    const project = file.runs.find((r) => r.target === 'project' && r.layout === 'mixed')!;
    assert.equal(project.npcs, 200);
    // The replication's share of the tick is measured (the engine's histogram), and is a share.
    assert.ok(project.replicationP99Ms !== null && project.replicationP99Ms >= 0, 'replication times');
    // Both are interpolated in the same buckets: the share can come out above by less than a bucket.
    assert.ok(project.replicationP99Ms <= project.tickP99Ms! + 2.5, 'replication is part of the tick');
    assert.equal(file.runs.find((r) => r.target === 'uws-broadcast' && r.layout === 'mixed')!.replicationP99Ms, null);
    // The broadcast sends every player to everyone; the framework a client's surroundings only.
    assert.ok(file.runs.find((r) => r.target === 'uws-broadcast' && r.layout === 'mixed')!.entitiesPerClient! > 30, 'the broadcast: (nearly) every player each tick');
    assert.match(await readFile(path.join(out, 'mmo-aoi.md'), 'utf8'), /\| project-embedded \| 40 \| 200 \| crowd \|/);
  });
});

test('smoke: mmo-aoi with distance bands (--near-radius): every client on the map and hearing its surroundings, the setting in the results', { timeout: 120_000 }, async () => {
  await runBench(['mmo-aoi', '--clients', '40', '--npcs', '200', '--seconds', '3', '--warmup', '2', '--targets', 'project-embedded', '--near-radius', '250'], async (out) => {
    const file = JSON.parse(await readFile(path.join(out, 'mmo-aoi.json'), 'utf8')) as AoiResultsFile;
    assert.equal(file.settings.nearRadius, 250);
    const [r] = file.runs;
    assert.ok(r !== undefined && file.runs.length === 1);
    assert.deepEqual([r.target, r.connected, r.failures], ['project', 40, 0]);
    assert.ok(r.entitiesPerClient !== null && r.entitiesPerClient > 0 && r.p99Ms >= r.p50Ms && r.p50Ms > 0, 'entities seen, moves back to their senders');
    assert.match(await readFile(path.join(out, 'mmo-aoi.md'), 'utf8'), /distance bands: within 250 of a player/);
  });
});

test('smoke: aoi-tick times one scene\'s replication alone, for each viewer count', { timeout: 120_000 }, async () => {
  await runBench(['aoi-tick', '--clients', '5,20', '--npcs', '300', '--seconds', '1', '--warmup', '1'], async (out) => {
    const file = JSON.parse(await readFile(path.join(out, 'aoi-tick.json'), 'utf8')) as AoiTickResultsFile;
    assert.equal(file.scenario, 'aoi-tick');
    assert.deepEqual(file.runs.map((r) => [r.entities, r.viewers, r.ticks]), [[305, 5], [320, 20]].map(([e, v]) => [e, v, 10]));
    for (const r of file.runs) {
      assert.ok(r.replicationP50Ms > 0 && r.replicationP99Ms >= r.replicationP50Ms && r.replicationMeanMs > 0, 'replication timed');
      assert.ok(r.bytesPerTick > 0 && r.recordsPerTick >= 1, 'cell frames written every tick (every entity moves)');
    }
    // More viewers hear more cells: more frames are written.
    assert.ok(file.runs[1]!.bytesPerTick > file.runs[0]!.bytesPerTick);
    assert.match(await readFile(path.join(out, 'aoi-tick.md'), 'utf8'), /\| 320 \| 20 \| 10 \|/);
  });
});
