import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { FailoverRow } from '../src/failover/run.js';
import type { AffectedResult, WindowStats } from '../src/loadgen/failover.js';
import type { RunRow } from '../src/orchestrate.js';
import { engineKillSummary, leaderKillSummary } from '../src/report/failover.js';
import { labelOf, maxCcu, ratios, sustained, type FailoverResultsFile, type ResultsFile } from '../src/report/results.js';
import { byProcess, cpuCell, cpuMsPerReconnect, kbPerClient, markdown, replaceSection, roundsOf } from '../src/report/render.js';
import { medianRounds } from '../src/report/rounds.js';
import { writeResults } from '../src/report/write.js';
import { growthPercent, SOAK_CHURN, startSample, type SoakResultsFile, type SoakRow } from '../src/soak.js';

function row(over: Partial<RunRow>): RunRow {
  return {
    target: 'uws', clients: 1000, p50Ms: 50, p99Ms: 100, maxMs: 120, serverDelayP50Ms: 2, serverDelayP99Ms: 8,
    inPerSec: 10000, inBytesPerSec: 130000, outPerSec: 10000, outBytesPerSec: 16e6, cpuPercent: 25, cpuUsPerMsg: 25,
    rssMb: 50, baselineRssMb: 40, connected: 1000, serverProcesses: 1, serverCpus: 1, failures: 0, ticksPerClientPerSec: 10, loadGenCpuPercent: 40, loadGenSaturated: false,
    ...over,
  };
}

const runs: RunRow[] = [
  row({ target: 'project', shape: 'cluster', cpuUsPerMsg: 30, p99Ms: 110, rssMb: 75 }),
  row({ target: 'project', shape: 'embedded', cpuUsPerMsg: 28 }),
  row({ target: 'uws', cpuUsPerMsg: 25, p99Ms: 100, rssMb: 50 }),
  row({ target: 'colyseus', cpuUsPerMsg: 40, p99Ms: 110, rssMb: 100 }),
  row({ target: 'project', shape: 'cluster', clients: 2000, p99Ms: 300 }),
  row({ target: 'colyseus', clients: 2000, cpuPercent: 99 }),
  row({ target: 'uws', clients: 2000, failures: 1 }),
];

test('labels tell the shapes and variants of the project apart', () => {
  assert.equal(labelOf({ target: 'project', shape: 'cluster' }), 'project');
  assert.equal(labelOf({ target: 'project', shape: 'embedded' }), 'project-embedded');
  assert.equal(labelOf({ target: 'project', shape: 'cluster', variant: 'acked' }), 'project-acked');
  assert.equal(labelOf({ target: 'colyseus' }), 'colyseus');
  assert.equal(labelOf({ target: 'uws' }), 'uws');
  assert.equal(labelOf({ target: 'uws', variant: 'worker' }), 'uws-worker');
});

test('ratios compare the project with the calibration of its shape too, when it ran', () => {
  const withWorker = [...runs, row({ target: 'uws', variant: 'worker', clients: 1000, cpuUsPerMsg: 25 })];
  const versus = ratios(withWorker).filter((r) => r.clients === 1000 && r.project === 'project').map((r) => r.versus);
  assert.deepEqual(versus, ['uws', 'uws-worker', 'colyseus']);
  const r = ratios(withWorker).find((x) => x.project === 'project' && x.versus === 'uws-worker' && x.clients === 1000)!;
  assert.equal(r.cpuUsPerMsg, 1.2, 'project 30 ÷ uws-worker 25');
});

test('ratios compare each shape of the project with uws and colyseus at equal client counts', () => {
  const r = ratios(runs);
  assert.deepEqual(r, [
    { clients: 1000, project: 'project', versus: 'uws', cpuUsPerMsg: 1.2, p99Ms: 1.1, rssMb: 1.5 },
    { clients: 1000, project: 'project', versus: 'colyseus', cpuUsPerMsg: 0.75, p99Ms: 1, rssMb: 0.75 },
    { clients: 1000, project: 'project-embedded', versus: 'uws', cpuUsPerMsg: 1.12, p99Ms: 1, rssMb: 1 },
    { clients: 1000, project: 'project-embedded', versus: 'colyseus', cpuUsPerMsg: 0.7, p99Ms: 0.91, rssMb: 0.5 },
    { clients: 2000, project: 'project', versus: 'uws', cpuUsPerMsg: 1, p99Ms: 3, rssMb: 1 },
    { clients: 2000, project: 'project', versus: 'colyseus', cpuUsPerMsg: 1, p99Ms: 3, rssMb: 1 },
  ]);
  assert.equal(labelOf({ target: 'project', shape: 'fat' }), 'project-fat');
  assert.equal(labelOf({ target: 'project', shape: 'embedded', variant: 'tcp' }), 'project-embedded-tcp');
});

test('max CCU: p99 < 200 ms, no failures, CPU < 95% per allowed core, generator not saturated', () => {
  assert.equal(sustained(row({})), true);
  assert.equal(sustained(row({ p99Ms: 200 })), false);
  assert.equal(sustained(row({ loadGenSaturated: true })), false);
  assert.equal(sustained(row({ cpuPercent: 150, serverCpus: 2 })), true);
  assert.deepEqual(maxCcu(runs), { project: 1000, 'project-embedded': 1000, uws: 1000, colyseus: 1000 });
});

test('markdown has one table row per run, the ratios and the max CCU line', () => {
  const file: ResultsFile = { scenario: 'mmo-move', date: '2026-11-26T00:00:00.000Z', machine: { cpus: 2, model: 'Test CPU', node: 'v20', pinned: true }, settings: { warmupSeconds: 5, steadySeconds: 20, command: 'npm run bench -- mmo-move' }, runs };
  const md = markdown(file);
  assert.equal(md.split('\n').filter((l) => /^\| (project|uws|colyseus)/.test(l)).length, runs.length);
  assert.match(md, /\| 1000 \| project \| uws \| 1\.20 \| 1\.10 \| 1\.50 \|/);
  assert.match(md, /Max CCU.*project 1000/);
});

test('--idle-seconds: each server\'s idle CPU and its share of the CPU under load follow the table; nothing when not measured', () => {
  const settings = { warmupSeconds: 5, steadySeconds: 20, command: 'npm run bench -- mmo-move --idle-seconds 60', idleSeconds: 60 };
  const measured: RunRow[] = [row({ target: 'project', shape: 'fat', cpuPercent: 25, idleCpuPercent: 1.25 }), row({ target: 'uws', cpuPercent: 20, idleCpuPercent: 0.1 })];
  const md = markdown({ scenario: 'mmo-move', date: 'd', machine: { cpus: 2, model: 'm', node: 'v20', pinned: true }, settings, runs: measured });
  assert.match(md, /Idle server CPU \(`--idle-seconds 60`/);
  assert.match(md, /\| project-fat \| 1000 \| 1\.25 \| 25\.0 \| 5\.0 % \|/);
  assert.match(md, /\| uws \| 1000 \| 0\.10 \| 20\.0 \| 0\.5 % \|/);
  const plain = markdown({ scenario: 'mmo-move', date: 'd', machine: { cpus: 2, model: 'm', node: 'v20', pinned: true }, settings: { warmupSeconds: 5, steadySeconds: 20, command: 'c' }, runs });
  assert.doesNotMatch(plain, /Idle server CPU/);
});

test('--rounds: each target and client count keeps its median round, whole, with every round\'s CPU; the ratios and table read it', () => {
  const rounds = [
    row({ target: 'uws', cpuUsPerMsg: 24, p99Ms: 101 }),
    row({ target: 'project', shape: 'fat', cpuUsPerMsg: 35 }),
    row({ target: 'uws', cpuUsPerMsg: 18, p99Ms: 102 }),
    row({ target: 'project', shape: 'fat', cpuUsPerMsg: 26, p99Ms: 111 }),
    row({ target: 'uws', cpuUsPerMsg: 20, p99Ms: 103 }),
    row({ target: 'project', shape: 'fat', cpuUsPerMsg: 28, p99Ms: 112 }),
    row({ target: 'project', shape: 'fat', cpuUsPerMsg: 27, p99Ms: 113 }),
    row({ target: 'uws', clients: 2000, cpuUsPerMsg: 19 }),
  ];
  const key = (r: RunRow): string => `${labelOf(r)}@${r.clients}`;
  const kept = medianRounds(rounds, key);
  assert.deepEqual(kept.map(key), ['uws@1000', 'project-fat@1000', 'uws@2000']);
  // Three rounds: the middle one, its own p99 with it; four: the lower of the two middle ones.
  assert.deepEqual([kept[0]!.cpuUsPerMsg, kept[0]!.p99Ms, kept[0]!.rounds, kept[0]!.cpuUsPerMsgRounds], [20, 103, 3, [24, 18, 20]]);
  assert.deepEqual([kept[1]!.cpuUsPerMsg, kept[1]!.p99Ms, kept[1]!.rounds, kept[1]!.cpuUsPerMsgRounds], [27, 113, 4, [35, 26, 28, 27]]);
  // A key run once stays as it ran.
  assert.equal(kept[2], rounds[7]);
  assert.equal(kept[2]!.rounds, undefined);
  assert.deepEqual(ratios(kept).find((r) => r.project === 'project-fat' && r.versus === 'uws')?.cpuUsPerMsg, 1.35);
  assert.equal(cpuCell(kept[1]!), '27.00 (26.00–35.00)');
  assert.equal(cpuCell(kept[2]!), '19.00');
  const file: ResultsFile = { scenario: 'mmo-move', date: '2026-12-07T00:00:00.000Z', machine: { cpus: 2, model: 'Test CPU', node: 'v20', pinned: true }, settings: { warmupSeconds: 5, steadySeconds: 20, command: 'npm run bench -- mmo-move --rounds 4', rounds: 4 }, runs: kept };
  const md = markdown(file);
  assert.match(md, /Every run was made 4 times/);
  assert.equal(roundsOf(file), 4, 'the closing line counts 4 runs a row');
  assert.equal(roundsOf({ ...file, settings: { warmupSeconds: 5, steadySeconds: 20, command: 'c' } }), 1);
  assert.match(md, /\| project-fat \| 1000 \|.*\| 27\.00 \(26\.00–35\.00\) \|/);
});

test('mmo-move: the RSS of each server process when a run has several, – for one process or an older result', () => {
  const two = row({ target: 'project', shape: 'cluster', serverProcesses: 2, processes: [{ name: 'project', rssMb: 98.4, cpuPercent: 20 }, { name: 'project-engine', rssMb: 240.06, cpuPercent: 10 }] });
  assert.equal(byProcess(two), 'project 98.4 · project-engine 240.1');
  assert.equal(byProcess(row({ processes: [{ name: 'uws', rssMb: 50, cpuPercent: 25 }] })), '–');
  assert.equal(byProcess(row({})), '–');
  const file: ResultsFile = { scenario: 'mmo-move', date: 'd', machine: { cpus: 2, model: 'm', node: 'v20', pinned: true }, settings: { warmupSeconds: 5, steadySeconds: 20, command: 'c' }, runs: [two] };
  const md = markdown(file);
  assert.ok(md.includes('| project 98.4 · project-engine 240.1 |'), md);
});

test('replaceSection swaps only the marked block, or appends it', () => {
  const doc = '# R\n\nintro\n\n<!-- s:start -->\nold\n<!-- s:end -->\n\nnotes\n';
  assert.equal(replaceSection(doc, 's', 'new'), '# R\n\nintro\n\n<!-- s:start -->\nnew\n<!-- s:end -->\n\nnotes\n');
  assert.equal(replaceSection('# R\n', 's', 'x'), '# R\n\n<!-- s:start -->\nx\n<!-- s:end -->\n');
});

test('writeResults writes the JSON, Markdown and chart page and updates RESULTS.md in place', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gos-bench-report-'));
  try {
    const resultsMd = path.join(dir, 'RESULTS.md');
    await writeFile(resultsMd, '# Results\n\nhand-written notes\n');
    const file: ResultsFile = { scenario: 'mmo-move', date: 'd', machine: { cpus: 2, model: 'm', node: 'v20', pinned: false }, settings: { warmupSeconds: 1, steadySeconds: 2, command: 'c' }, runs };
    await writeResults(path.join(dir, 'results'), file, resultsMd);
    const json = JSON.parse(await readFile(path.join(dir, 'results', 'mmo-move.json'), 'utf8')) as ResultsFile;
    assert.equal(json.scenario, 'mmo-move');
    assert.equal(json.runs.length, runs.length);
    for (const k of ['target', 'clients', 'p50Ms', 'p99Ms', 'maxMs', 'serverDelayP99Ms', 'inPerSec', 'outPerSec', 'outBytesPerSec', 'cpuPercent', 'cpuUsPerMsg', 'rssMb', 'failures', 'loadGenSaturated']) {
      assert.ok(k in json.runs[0]!, `field ${k}`);
    }
    const page = await readFile(path.join(dir, 'results', 'mmo-move.html'), 'utf8');
    assert.equal((page.match(/<svg/g) ?? []).length, 2, 'two charts');
    const doc = await readFile(resultsMd, 'utf8');
    assert.match(doc, /hand-written notes/);
    assert.match(doc, /<!-- mmo-move:start -->[\s\S]*\| project \| 1000 \|[\s\S]*results\/mmo-move\.html[\s\S]*<!-- mmo-move:end -->/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('idle-ccu: the table reports kB per connection above the server\'s own baseline', () => {
  assert.equal(kbPerClient({ rssMb: 50, baselineRssMb: 40, connected: 1024 }), 10);
  assert.equal(kbPerClient({ rssMb: 50, baselineRssMb: 40, connected: 0 }), null);
  const file: ResultsFile = { scenario: 'idle-ccu', date: 'd', machine: { cpus: 2, model: 'm', node: 'v20', pinned: true }, settings: { warmupSeconds: 1, steadySeconds: 2, command: 'c' }, runs: [row({ target: 'uws', clients: 1024, connected: 1024, rssMb: 50, baselineRssMb: 40 })] };
  assert.match(markdown(file), /\| uws \| 1024 \| 1024 \| 0 \| 50\.0 \| 40\.0 \| 10\.0 \|/);
});

test('reconnect-storm: CPU per reconnect is the server CPU over the storm ÷ clients back', () => {
  // 80% of a core for 0.5 s = 400 ms of CPU, over 1,000 clients back: 0.4 ms each.
  assert.equal(cpuMsPerReconnect({ cpuPercent: 80, stormSeconds: 0.5, reconnected: 1000 }), 0.4);
  assert.equal(cpuMsPerReconnect({ cpuPercent: 80, stormSeconds: 0.5, reconnected: 0 }), null);
  assert.equal(cpuMsPerReconnect({ cpuPercent: 80 }), null);
  const file: ResultsFile = {
    scenario: 'reconnect-storm',
    date: '2026-11-26T00:00:00.000Z',
    machine: { cpus: 2, model: 'test cpu', node: 'v20', pinned: true },
    settings: { warmupSeconds: 2, steadySeconds: 20, command: 'npm run bench -- reconnect-storm --clients 1000' },
    runs: [row({ target: 'project', shape: 'cluster', cpuPercent: 80, stormSeconds: 0.5, dropped: 1000, reconnected: 998, failures: 2, p50Ms: 300, p99Ms: 400 })],
  };
  const md = markdown(file);
  assert.match(md, /not back within 20 s is a failure/);
  // back, failures, storm s, reconnects/s (998 / 0.5), …, CPU-ms per reconnect (400 / 998).
  assert.match(md, /\| project \| 1000 \| 998 \| 2 \| 0\.50 \| 1996 \| 300\.0 \| 400\.0 \| 120\.0 \| 80\.0 \| 0\.40 \|/);
});

function windowStats(over: Partial<WindowStats>): WindowStats {
  return { seconds: 5, inputs: 500, acked: 500, unacked: 0, p50Ms: 50, p99Ms: 100, maxMs: 110, closes: 0, errors: 0, ...over };
}

function failoverRow(over: Partial<FailoverRow>): FailoverRow {
  return {
    scenario: 'engine-kill', clients: 300, repeat: 1, connected: 300, connectFailures: 0, perScene: [150, 150], playersPerEngine: { 'engine-1': 150, 'engine-2': 150 },
    killed: 'engine-1', killAtSeconds: 5, unaffected: { before: windowStats({}), during: windowStats({}), after: windowStats({}) }, unexpectedResumes: 0, loadGenCpuPercent: 20, loadGenSaturated: false,
    ...over,
  };
}

function affected(over: Partial<AffectedResult>): AffectedResult {
  return {
    players: 150, resumed: 150, closed: 0, notResumed: 0, resumeMs: { count: 150, p50Ms: 5200, p99Ms: 5400, maxMs: 5450 }, firstAckMs: { count: 150, p50Ms: 5300, p99Ms: 5500, maxMs: 5600 },
    lastResumeMs: 5450, lostMoves: { players: 150, total: 3000, max: 20, p50: 20 }, unverified: 0, droppedInputs: 8000, after: windowStats({}),
    ...over,
  };
}

test('engine-kill: the summary takes the median p50, the worst p99 and max, and totals the counts', () => {
  const runs = [
    failoverRow({ repeat: 1, affected: affected({ resumeMs: { count: 150, p50Ms: 5000, p99Ms: 5300, maxMs: 5350 } }) }),
    failoverRow({ repeat: 2, affected: affected({ resumeMs: { count: 150, p50Ms: 5200, p99Ms: 5900, maxMs: 6000 }, lostMoves: { players: 10, total: 40, max: 45, p50: 4 } }) }),
    failoverRow({ repeat: 3, affected: affected({ closed: 2, resumed: 148, resumeMs: { count: 148, p50Ms: 5100, p99Ms: 5400, maxMs: 5500 } }), unaffected: { before: windowStats({}), during: windowStats({ p99Ms: 180, unacked: 3 }), after: windowStats({ closes: 1 }) } }),
  ];
  const [s] = engineKillSummary(runs);
  assert.equal(s!.repeats, 3);
  assert.equal(s!.resumeP50Ms, 5100);
  assert.equal(s!.resumeP99Ms, 5900);
  assert.equal(s!.resumeMaxMs, 6000);
  assert.equal(s!.resumed, 448);
  assert.equal(s!.closed, 2);
  assert.equal(s!.lostMovesMax, 45);
  assert.equal(s!.lostMovesTotal, 6040);
  assert.equal(s!.unaffectedDuringP99Ms, 180);
  assert.equal(s!.unaffectedIssues, 4, 'unacknowledged inputs and closes of the unaffected players');
  const file: FailoverResultsFile = {
    scenario: 'engine-kill', date: 'd', machine: { cpus: 2, model: 'm', node: 'v20', pinned: true },
    settings: { warmupSeconds: 5, steadySeconds: 20, command: 'npm run bench -- engine-kill', repeats: 3, coordinators: 3, engines: 2, gateways: 2, leaseTtlSeconds: 5, persistIntervalMs: 5000, connectPerSecond: 100 },
    runs,
  };
  const md = markdown(file);
  assert.equal(md.split('\n').filter((l) => /^\| 300 \| [123] \| engine-1/.test(l)).length, 3, 'one row per repeat');
  assert.match(md, /\| 300 \| 3 \| 450 \| 448 \| 2 \| 5100 \/ 5900 \/ 6000 \|/);
  assert.match(md, /Data-loss window: the engines' persist interval, 5000 ms; the most acknowledged moves one player lost was 45/);
});

test('leader-kill: time to a new leader and the windows before, during and after', () => {
  const runs = [1200, 2600, 2400].map((ms, i) =>
    failoverRow({ scenario: 'leader-kill', repeat: i + 1, killed: 'coordinator-1', newLeader: 'coordinator-2', newLeaderMs: ms, statusReadMs: 20, unaffected: { before: windowStats({}), during: windowStats({ p99Ms: 100 + i }), after: windowStats({ errors: i }) } }),
  );
  runs.push(failoverRow({ scenario: 'leader-kill', repeat: 4, killed: 'coordinator-2', newLeader: null, newLeaderMs: null }));
  const [s] = leaderKillSummary(runs);
  assert.equal(s!.newLeaderMinMs, 1200);
  assert.equal(s!.newLeaderMedianMs, 2400);
  assert.equal(s!.newLeaderMaxMs, 2600);
  assert.equal(s!.noNewLeader, 1);
  assert.equal(s!.windows.during.p99Ms, 102, "the worst repeat's p99");
  assert.equal(s!.windows.after.issues, 3);
  const file: FailoverResultsFile = {
    scenario: 'leader-kill', date: 'd', machine: { cpus: 2, model: 'm', node: 'v20', pinned: true },
    settings: { warmupSeconds: 5, steadySeconds: 20, command: 'c', repeats: 4, coordinators: 3, engines: 2, gateways: 2, leaseTtlSeconds: 5, persistIntervalMs: 5000, connectPerSecond: 100 },
    runs,
  };
  const md = markdown(file);
  assert.match(md, /\| 300 \| 1 \| coordinator-1 \| coordinator-2 \| 1200 \| 20 \| 50 \/ 100 \| 50 \/ 100 \| 50 \/ 100 \| 110 \| 0 \/ 0 \/ 0 \|/);
  assert.match(md, /\| 300 \| 4 \| coordinator-2 \| none \| – \|/);
  assert.match(md, /1200 \/ 2400 \/ 2600 \(1 without\)/);
});

test('soak: growth is measured from minute 2 (a third into a short run), and the verdict follows the 5 % bound and the errors', () => {
  const samples = [0, 60, 120, 180, 1800].map((second, i) => ({ second, rssMb: 200 + i, heapMb: 20, workersHeapMb: 4, heapCommittedMb: 30, arrayBuffersMb: 2 }));
  assert.equal(startSample(samples, 1800)?.second, 120);
  assert.equal(startSample(samples.slice(0, 3), 30)?.second, 60, 'a third into a 30 s run');
  assert.equal(growthPercent(200, 210), 5);
  assert.equal(growthPercent(0, 10), 0);

  const soakRow = (over: Partial<SoakRow>): SoakRow => ({
    target: 'project', shape: 'embedded', clients: 300, minutes: 30, startSecond: 120, rssStartMb: 200, rssEndMb: 204, heapStartMb: 20, heapEndMb: 20.2,
    rssGrowthPercent: 2, heapGrowthPercent: 1, errors: 0, moves: 5_400_000, resumes: 2700, p99Ms: 40, cpuPercent: 30, collected: true, samples, ...over,
  });
  const file: SoakResultsFile = {
    scenario: 'soak',
    date: '2026-12-04T00:00:00.000Z',
    machine: { cpus: 2, model: 'test', node: 'v20', pinned: true },
    settings: { warmupSeconds: 0, steadySeconds: 1800, command: 'npm run bench -- soak', sampleSeconds: 60, churn: SOAK_CHURN, maxGrowthPercent: 5 },
    runs: [soakRow({}), soakRow({ shape: 'cluster', rssGrowthPercent: 6 }), soakRow({ shape: 'cluster', clients: 400, errors: 3, errorSamples: ['client 1: error ENG_ERR_QUEUE_FULL'] })],
  };
  const md = markdown(file);
  assert.match(md, /\| project-embedded \| 300 \| 30 \| 5400000 \| 2700 \| 200\.0 \| 204\.0 \| 2\.00 \|.*\| pass \|/);
  assert.match(md, /\| project \| 300 \|.*\| 6\.00 \|.*\| \*\*fail\*\* \|/);
  assert.match(md, /\| project \| 400 \|.*\| 3 \|.*\| \*\*fail\*\* \|/);
  assert.match(md, /ENG_ERR_QUEUE_FULL/);
});
