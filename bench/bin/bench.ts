/**
 * The benchmark harness: runs a scenario against every target for every client count, in one
 * run, and writes JSON, a Markdown table and HTML charts.
 *
 *   npm run bench -- mmo-move --clients 500,1000,2000,3000
 *   npm run bench -- mmo-move --clients 20 --seconds 3 --warmup 1 --out /tmp/smoke     (a smoke run)
 *   npm run bench -- idle-ccu --clients 2000,6000,12000,18000     (memory per idle connection)
 *   npm run bench -- chat-fanout --clients 1000,2000,5000         (one line to everyone in one scene)
 *   npm run bench -- login-storm --clients 10,20,40,80            (password logins per second offered)
 *   npm run bench -- reconnect-storm --clients 1000,3000,6000     (every client drops and reconnects at once)
 *   npm run bench -- engine-kill --clients 300 --repeats 3        (SIGKILL the busiest engine of a real cluster)
 *   npm run bench -- leader-kill --clients 300 --repeats 3        (SIGKILL the coordinator leader)
 *   npm run bench -- soak --clients 300 --minutes 30              (memory over time, after full collections)
 *   npm run bench -- travel --clients 200 --hop-every 3000        (players hop between scenes on two engines)
 *   npm run bench -- timers --timers 100000 --fires 100           (tick time of a scene with many durable timers pending)
 *   npm run bench -- leaderboard --members 1000000,10000000       (one Redis board: rank, around-me, page, update)
 *   npm run bench -- player-logs --rates 1000,10000,50000          (tick time of a scene appending player-log events; events written a second)
 *   npm run bench -- mmo-aoi --clients 1000,2000,5000 [--npcs 0,9000]  (one large map: area of interest against a whole-map broadcast)
 *   npm run bench -- aoi-tick --clients 100,1000 --npcs 9900           (one scene's entity replication alone: time per tick)
 *   npm run bench -- migrate --clients 100,500                    (one scene moved live between two engines, again and again)
 *   npm run bench -- engine-drain --clients 300 --scenes 3        (every engine replaced: a new one started, the old one drained)
 *   npm run bench -- rolling-restart --clients 300 --scenes 3     (every engine drained and restarted in turn)
 *   npm run bench -- scale-out --clients 320 --scenes 8           (one engine with every scene, a second started: time to balance)
 *
 * Options: --targets project,project-fat,project-embedded,colyseus,colyseus-uws,uws (the default; project-acked too on
 * request), --seconds 20
 * (steady window), --warmup 5, --connect-rate 500 (connections per second), --out bench/results,
 * --no-pin (do not taskset). engine-kill and leader-kill run only this framework, as a cluster
 * of processes (no --targets), and take --repeats 3, --lease-ttl 5 (seconds), --persist-ms 5000
 * (the engines' save period), --connect-rate 100; they need etcd (GOS_ETCD_URL), Redis
 * (GOS_REDIS_URL, default redis://127.0.0.1:6379) and MariaDB (GOS_MYSQL_URL, default
 * mysql://gos:gos@127.0.0.1:3306/gos_test: a user that may create `gos_bench_failover_*`
 * databases). soak runs project-embedded unless --targets names other project targets, and takes
 * --minutes 30, --sample-seconds 60, --churn-percent 5, --churn-every 10 (seconds), --hostile 50
 * (hostile sockets beside the players; 0: none) and --hostile-rate 20 (their frames a second). travel runs
 * this framework only, as a cluster of processes (like engine-kill), and takes --hop-every 3000
 * (ms) and --scenes 6; --seconds is each of its two phases. Only loopback addresses are used; every process it starts is stopped before it
 * exits.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { parseCommandLine } from '@gos/cluster';
import { ensureEtcd, type EtcdHandle } from '../src/etcd.js';
import { runFailover, type FailoverRow } from '../src/failover/run.js';
import type { FailoverScenario } from '../src/loadgen/failover.js';
import { canPin, runOne, type RunRow, type Scenario } from '../src/orchestrate.js';
import { engineKillSummary, leaderKillSummary } from '../src/report/failover.js';
import { labelOf, machine, ratios, type AnyResultsFile, type FailoverResultsFile, type ResultsFile } from '../src/report/results.js';
import { writeResults } from '../src/report/write.js';
import { runSoak, SOAK_HOSTILE, SOAK_MAX_GROWTH_PERCENT, type Churn, type Hostility, type SoakResultsFile, type SoakRow } from '../src/soak.js';
import { TARGETS, targetByName, type TargetSpec } from '../src/targets/index.js';
import { runTravel, type TravelResultsFile } from '../src/travel.js';
import { MIGRATE_INPUTS_PER_SECOND, MIGRATE_TICK_MS, runMigrate, type MigrateResultsFile } from '../src/migrate.js';
import { runScaling, SCALING_SCENARIOS, type ScalingResultsFile, type ScalingScenario } from '../src/scaling.js';
import { runTimers, type TimersResultsFile } from '../src/timers.js';
import { runLeaderboard, type LeaderboardResultsFile } from '../src/leaderboard.js';
import { runPlayerLogs, type PlayerLogsResultsFile } from '../src/player-logs.js';
import { aoiTickSettings, runAoiTick, type AoiTickResultsFile } from '../src/aoi-tick.js';
import { aoiRow } from '../src/aoi.js';
import { AOI_CELL, AOI_HYSTERESIS, AOI_LAYOUTS, AOI_MAP, AOI_VIEW, type AoiLayout } from '../src/targets/project/aoi-map.js';

const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_OUT = path.join(BENCH_DIR, 'results');
const FAILOVER_SCENARIOS: readonly FailoverScenario[] = ['engine-kill', 'leader-kill'];
type AnyScenario = Scenario | FailoverScenario | ScalingScenario | 'soak' | 'travel' | 'timers' | 'aoi-tick' | 'migrate' | 'leaderboard' | 'player-logs';
const SCENARIOS: readonly AnyScenario[] = ['mmo-move', 'idle-ccu', 'chat-fanout', 'login-storm', 'reconnect-storm', 'mmo-aoi', 'soak', 'travel', 'timers', 'aoi-tick', 'migrate', 'leaderboard', 'player-logs', ...SCALING_SCENARIOS, ...FAILOVER_SCENARIOS];
/** Client counts when --clients is not given. idle-ccu stays under the 20,000 open files a process may have here. */
const DEFAULT_CLIENTS: Record<AnyScenario, string> = {
  'mmo-move': '500,1000,2000,3000',
  'idle-ccu': '2000,6000,12000,18000',
  'chat-fanout': '1000,2000,5000',
  'login-storm': '10,20,40,80',
  'reconnect-storm': '1000,3000,6000',
  'mmo-aoi': '1000,2000,5000',
  'engine-kill': '300',
  'leader-kill': '300',
  soak: '300',
  travel: '200',
  timers: '1',
  leaderboard: '1',
  'player-logs': '1',
  'aoi-tick': '100',
  migrate: '100,500',
  'engine-drain': '300',
  'rolling-restart': '300',
  'scale-out': '320',
};
/** Scenes the players spread over when --scenes is not given. */
const DEFAULT_SCENES: Partial<Record<AnyScenario, string>> = { travel: '6', 'engine-drain': '3', 'rolling-restart': '3', 'scale-out': '8' };
const DEFAULT_TARGETS = ['project', 'project-fat', 'project-embedded', 'colyseus', 'colyseus-uws', 'uws'];
/** The failover cluster: three coordinators, two engines, two gateways (one scene each). */
const FAILOVER_CLUSTER = { coordinators: 3, engines: 2, gateways: 2 } as const;

const USAGE = `usage: npm run bench -- mmo-move|idle-ccu|chat-fanout|login-storm|reconnect-storm [--clients 500,1000,2000,3000] [--targets ${TARGETS.map((t) => t.name).join(',')}]
       [--seconds 20] [--warmup 5] [--connect-rate 500] [--out ${path.relative(process.cwd(), DEFAULT_OUT) || DEFAULT_OUT}] [--no-pin]
       npm run bench -- engine-kill|leader-kill [--clients 300] [--repeats 3] [--seconds 20] [--warmup 5] [--connect-rate 100]
       [--lease-ttl 5] [--persist-ms 5000] [--out …] [--no-pin]
       npm run bench -- soak [--clients 300] [--minutes 30] [--sample-seconds 60] [--churn-percent 5] [--churn-every 10] [--hostile 50] [--hostile-rate 20] [--targets project-embedded]
       [--connect-rate 100] [--out …] [--no-pin]
       npm run bench -- travel [--clients 200] [--hop-every 3000] [--scenes 6] [--seconds 20] [--warmup 5] [--connect-rate 100] [--out …] [--no-pin]
       npm run bench -- mmo-aoi [--clients 1000,2000,5000] [--npcs 0[,9000…]] [--layouts mixed[,uniform,crowd]] [--cell 500] [--hysteresis 50] [--max-clients-uws N] [--targets project-embedded,uws] [--seconds 20] [--warmup 5] [--out …] [--no-pin]
       npm run bench -- aoi-tick [--clients 100 (viewers)] [--npcs 9900] [--cell 500] [--hysteresis 50] [--seconds 20 (×10 ticks)] [--warmup 5] [--out …]
       npm run bench -- migrate [--clients 100,500 (players in the scene)] [--moves 6] [--move-every 3000] [--warmup 5] [--connect-rate 100] [--out …] [--no-pin]
       npm run bench -- engine-drain|rolling-restart [--clients 300] [--scenes 3] [--warmup 5] [--connect-rate 100] [--out …] [--no-pin]
       npm run bench -- scale-out [--clients 320] [--scenes 8] [--balance-window 60] [--warmup 5] [--connect-rate 100] [--out …] [--no-pin]
       npm run bench -- timers [--timers 100000] [--fires 100] [--seconds 20] [--warmup 5] [--persist-ms 5000] [--out …]
       npm run bench -- leaderboard [--members 1000000,10000000] [--seconds 20 (per operation)] [--out …]
       npm run bench -- player-logs [--rates 1000,10000,50000] [--seconds 20] [--warmup 5] [--out …]
See bench/README.md for what each scenario measures.`;

const cli = parseCommandLine(
  { name: 'bench', usage: USAGE },
  {
    allowPositionals: true,
    options: {
      clients: { type: 'string' },
      targets: { type: 'string' },
      seconds: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      'connect-rate': { type: 'string' },
      repeats: { type: 'string', default: '3' },
      'lease-ttl': { type: 'string', default: '5' },
      'persist-ms': { type: 'string', default: '5000' },
      minutes: { type: 'string', default: '30' },
      'churn-percent': { type: 'string', default: '5' },
      'churn-every': { type: 'string', default: '10' },
      hostile: { type: 'string', default: String(SOAK_HOSTILE.sockets) },
      'hostile-rate': { type: 'string', default: String(SOAK_HOSTILE.framesPerSecond) },
      'sample-seconds': { type: 'string', default: '60' },
      'hop-every': { type: 'string', default: '3000' },
      moves: { type: 'string', default: '6' },
      'move-every': { type: 'string', default: '3000' },
      scenes: { type: 'string' },
      'balance-window': { type: 'string', default: '60' },
      timers: { type: 'string', default: '100000' },
      members: { type: 'string', default: '1000000,10000000' },
      rates: { type: 'string', default: '1000,10000,50000' },
      fires: { type: 'string', default: '100' },
      npcs: { type: 'string' },
      layouts: { type: 'string', default: 'mixed' },
      cell: { type: 'string', default: String(AOI_CELL) },
      hysteresis: { type: 'string', default: String(AOI_HYSTERESIS) },
      'max-clients-uws': { type: 'string' },
      out: { type: 'string', default: DEFAULT_OUT },
      'no-pin': { type: 'boolean', default: false },
    },
  },
);
const { values, positionals } = cli;
// Annotated, so that the compiler knows a call does not return.
const usage: (message: string) => never = cli.fail;
if (positionals.length > 1) usage(`one scenario at a time, got "${positionals.join(' ')}"`);
const scenario = (positionals[0] ?? 'mmo-move') as AnyScenario;
if (!SCENARIOS.includes(scenario)) usage(`unknown scenario "${scenario}" (known: ${SCENARIOS.join(', ')})`);
const failover = (FAILOVER_SCENARIOS as readonly string[]).includes(scenario);
/** Scenarios that start their own cluster of processes of this framework: no --targets. */
const scaling = (SCALING_SCENARIOS as readonly string[]).includes(scenario);
const ownCluster = failover || scaling || scenario === 'travel' || scenario === 'timers' || scenario === 'aoi-tick' || scenario === 'migrate' || scenario === 'leaderboard' || scenario === 'player-logs';

const positive = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) usage(`--${name} must be a positive integer, got "${v}"`);
  return n;
};
const clientCounts = (values.clients ?? DEFAULT_CLIENTS[scenario]).split(',').map((v) => positive('clients', v.trim()));
if (ownCluster && values.targets !== undefined) usage(`${scenario} runs this framework only, as a cluster of processes: leave out --targets`);
const defaultTargets = scenario === 'soak' || scenario === 'mmo-aoi' ? (scenario === 'soak' ? 'project-embedded' : 'project-embedded,uws') : DEFAULT_TARGETS.join(',');
let targets: TargetSpec[] = ownCluster ? [] : (values.targets ?? defaultTargets).split(',').map((name) => targetByName(name.trim()) ?? usage(`unknown target "${name}"`));
if (scenario === 'login-storm') {
  // Only this framework has a login API; Colyseus and the bare server have nothing to compare.
  const skipped = targets.filter((t) => t.target !== 'project').map((t) => t.name);
  if (skipped.length > 0) console.error(`bench: login-storm runs only against targets with a login API; skipping ${skipped.join(', ')}`);
  targets = targets.filter((t) => t.target === 'project');
  if (targets.length === 0) usage('login-storm needs a project target');
}
if (scenario === 'soak' && targets.some((t) => t.target !== 'project')) {
  // The memory probe (a full collection on SIGUSR2) is in this framework's bench server only.
  usage(`soak runs this framework's targets only (project, project-embedded), got ${values.targets ?? ''}`);
}
const steadySeconds = positive('seconds', values.seconds);
const soakMinutes = Number(values.minutes);
if (!Number.isFinite(soakMinutes) || soakMinutes <= 0) usage(`--minutes must be a positive number, got "${values.minutes}"`);
const sampleSeconds = positive('sample-seconds', values['sample-seconds']);
const churnPercent = Number(values['churn-percent']);
if (!Number.isFinite(churnPercent) || churnPercent < 0 || churnPercent > 100) usage(`--churn-percent must be 0–100, got "${values['churn-percent']}"`);
const churn: Churn = { everySeconds: positive('churn-every', values['churn-every']), fraction: churnPercent / 100 };
const hostileSockets = Number(values.hostile);
if (!Number.isInteger(hostileSockets) || hostileSockets < 0) usage(`--hostile must be a whole number ≥ 0, got "${values.hostile}"`);
const hostileRate = Number(values['hostile-rate']);
if (!Number.isFinite(hostileRate) || hostileRate <= 0 || hostileRate > 50) usage(`--hostile-rate must be a number in (0, 50] (frames a second per socket, under the gateway's 60), got "${values['hostile-rate']}"`);
const hostility: Hostility | null = hostileSockets === 0 ? null : { sockets: hostileSockets, framesPerSecond: hostileRate };
const warmupSeconds = Number(values.warmup);
if (!Number.isFinite(warmupSeconds) || warmupSeconds < 0) usage('--warmup must be ≥ 0');
// Failover bots log in through two gateways, each allowing 50 logins a second per address by default.
// soak: the embedded gateway allows 50 logins a second from one address by default.
const connectPerSecond = positive('connect-rate', values['connect-rate'] ?? (ownCluster || scenario === 'soak' ? '100' : '500'));
const hopEveryMs = positive('hop-every', values['hop-every']);
const moves = positive('moves', values.moves);
const moveEveryMs = positive('move-every', values['move-every']);
if (values.scenes !== undefined && DEFAULT_SCENES[scenario] === undefined) usage(`--scenes is for ${Object.keys(DEFAULT_SCENES).join(', ')}`);
const sceneCount = positive('scenes', values.scenes ?? DEFAULT_SCENES[scenario] ?? '6');
if (scenario === 'travel' && sceneCount < 4) usage('--scenes must be at least 4 (two an engine, for hops within an engine)');
const balanceWindowSeconds = positive('balance-window', values['balance-window']);
const repeats = positive('repeats', values.repeats);
const timerCounts = values.timers.split(',').map((v) => positive('timers', v.trim()));
const firesPerSecond = positive('fires', values.fires);
/** mmo-aoi: each client count runs once per NPC count on this framework's targets (the bare server has no NPCs: once, with the first). */
const npcCounts = (values.npcs ?? (scenario === 'aoi-tick' ? '9900' : '0')).split(',').map((v) => {
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < 0) usage(`--npcs must be integers ≥ 0, got "${values.npcs ?? ''}"`);
  return n;
});
/** mmo-aoi: how the walkers spread (LoadOptions.layout); each client count runs once per layout. */
const layouts = values.layouts.split(',').map((v): AoiLayout => AOI_LAYOUTS.find((l) => l === v.trim()) ?? usage(`--layouts takes ${AOI_LAYOUTS.join(', ')}, got "${v}"`));
if (scenario !== 'mmo-aoi' && values.layouts !== 'mixed') usage('--layouts is for mmo-aoi');
/** mmo-aoi and aoi-tick: the aoi scene's cell size and hysteresis. */
const cellSize = positive('cell', values.cell);
const hysteresis = positive('hysteresis', values.hysteresis);
if (scenario !== 'mmo-aoi' && scenario !== 'aoi-tick' && (cellSize !== AOI_CELL || hysteresis !== AOI_HYSTERESIS)) usage('--cell and --hysteresis are for mmo-aoi and aoi-tick');
/** mmo-aoi: the whole-map broadcast is skipped above this many clients (its bytes grow with N²). */
const maxClientsUws = values['max-clients-uws'] === undefined ? Number.POSITIVE_INFINITY : positive('max-clients-uws', values['max-clients-uws']);
const leaseTtlSeconds = positive('lease-ttl', values['lease-ttl']);
const persistIntervalMs = positive('persist-ms', values['persist-ms']);
const pin = !values['no-pin'] && canPin() && availableParallelism() >= 2;
if (!values['no-pin'] && !pin) console.error('bench: not pinning (needs taskset and 2 CPUs): server and load generator share the CPUs');
const outDir = path.resolve(values.out);

/** The services a cluster of processes needs (engine-kill, leader-kill, travel; etcd also for targets on etcd). */
const ETCD_URL = process.env['GOS_ETCD_URL'] ?? 'http://127.0.0.1:2379';
const REDIS_URL = process.env['GOS_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MYSQL_URL = process.env['GOS_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';

let etcd: EtcdHandle | null = null;
/** Kills whatever the run in progress started (its servers or cluster, and load generator). */
let abortRun: (() => Promise<void>) | null = null;
const onAbortable = (abort: (() => Promise<void>) | null): void => {
  abortRun = abort;
};
const cleanup = async (): Promise<void> => {
  await abortRun?.();
  await etcd?.stop();
};
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));
process.on('SIGTERM', () => void cleanup().finally(() => process.exit(143)));
const argv = process.argv.slice(2).join(' ');
const started = Date.now();
if (failover) await benchFailover(scenario as FailoverScenario);
else if (scenario === 'soak') await benchSoak();
else if (scenario === 'travel') await benchTravel();
else if (scenario === 'migrate') await benchMigrate();
else if (scaling) await benchScaling(scenario as ScalingScenario);
else if (scenario === 'timers') await benchTimers();
else if (scenario === 'leaderboard') await benchLeaderboard();
else if (scenario === 'player-logs') await benchPlayerLogs();
else if (scenario === 'aoi-tick') await benchAoiTick();
else await benchTargets(scenario as Scenario);

/** The progress line of run `done + 1` of `total`, about `left` seconds before the end. */
function progressLine(done: number, total: number, left: number): (line: string) => void {
  return (line) => process.stderr.write(`\r[bench ${done + 1}/${total}, ~${Math.round(left)} s left] ${line}`.padEnd(110).slice(0, 140));
}

/** A finished run: kept, and printed as one JSON line. */
function keep<R>(runs: R[], row: R): void {
  runs.push(row);
  process.stderr.write('\n');
  console.log(JSON.stringify(row));
}

/** Write the results (JSON, Markdown, HTML; RESULTS.md when writing to the default folder) and say where. */
async function write(file: AnyResultsFile): Promise<void> {
  await writeResults(outDir, file, outDir === DEFAULT_OUT ? path.join(BENCH_DIR, 'RESULTS.md') : null);
  console.log(`\nbench: ${file.runs.length} runs in ${Math.round((Date.now() - started) / 1000)} s → ${path.relative(process.cwd(), outDir) || outDir}/${file.scenario}.{json,md,html}`);
}

async function benchTargets(scenario: Scenario): Promise<void> {
  const runs: RunRow[] = [];
  try {
    if (targets.some((t) => t.needsEtcd)) etcd = await ensureEtcd(ETCD_URL, pin ? 0 : null);
    // Every run, in order: the targets alternate their order per client count, so slow drift
    // (thermal, page cache) does not always favour one; mmo-aoi runs this framework once per NPC
    // count, and the bare server up to --max-clients-uws.
    const plan = clientCounts.flatMap((clients, i) =>
      targets
        .map((_, k) => targets[(k + i) % targets.length]!)
        .flatMap((spec) => (scenario !== 'mmo-aoi' ? [0] : spec.target === 'project' ? npcCounts : spec.name === 'uws' && clients > maxClientsUws ? [] : [npcCounts[0]!]).map((npcs) => ({ clients, spec, npcs })))
        .flatMap((p) => layouts.map((layout) => ({ ...p, layout }))),
    );
    const perRun = warmupSeconds + steadySeconds;
    for (const [done, { clients, spec, npcs, layout }] of plan.entries()) {
      const left = plan.slice(done).reduce((sum, p) => sum + perRun + p.clients / connectPerSecond + 3, 0);
      const row = await runOne({
        scenario,
        spec,
        clients,
        warmupSeconds,
        steadySeconds,
        connectPerSecond,
        pin,
        ...(etcd === null ? {} : { etcdUrl: etcd.url }),
        ...(scenario === 'mmo-aoi' ? { serverEnv: { BENCH_AOI_NPCS: String(npcs), BENCH_AOI_CELL: String(cellSize), BENCH_AOI_HYSTERESIS: String(hysteresis) }, layout } : {}),
        onProgress: progressLine(done, plan.length, left),
        onAbortable,
      });
      keep(runs, scenario === 'mmo-aoi' ? { ...row, npcs, layout } : row);
    }
  } finally {
    await cleanup();
  }

  if (scenario === 'mmo-aoi') {
    await write({
      scenario,
      date: new Date().toISOString(),
      machine: machine(pin),
      settings: { warmupSeconds, steadySeconds, command: `npm run bench -- ${argv}`.trim(), map: AOI_MAP, viewRadius: AOI_VIEW, cellSize, hysteresis },
      runs: runs.map((r) => aoiRow(r, r.npcs ?? 0, r.layout ?? 'mixed')),
    });
    return;
  }
  const file: ResultsFile = {
    scenario,
    date: new Date().toISOString(),
    machine: machine(pin),
    settings: { warmupSeconds, steadySeconds, command: `npm run bench -- ${argv}`.trim() },
    runs,
  };
  await write(file);
  for (const r of scenario === 'mmo-move' ? ratios(runs) : []) {
    console.log(`bench: N=${r.clients} ${r.project}/${r.versus}: CPU-µs/msg ×${r.cpuUsPerMsg ?? '–'}, p99 ×${r.p99Ms ?? '–'}, RSS ×${r.rssMb ?? '–'}`);
  }
}

async function benchSoak(): Promise<void> {
  const runs: SoakRow[] = [];
  try {
    if (targets.some((t) => t.needsEtcd)) etcd = await ensureEtcd(ETCD_URL, pin ? 0 : null);
    const total = clientCounts.length * targets.length;
    let done = 0;
    for (const clients of clientCounts) {
      for (const spec of targets) {
        const left = (total - done) * (soakMinutes * 60 + clients / connectPerSecond + 3);
        const row = await runSoak({
          spec,
          clients,
          minutes: soakMinutes,
          sampleSeconds,
          churn,
          hostile: hostility,
          connectPerSecond,
          pin,
          ...(etcd === null ? {} : { etcdUrl: etcd.url }),
          onProgress: progressLine(done, total, left),
          onAbortable,
        });
        done++;
        keep(runs, row);
      }
    }
  } finally {
    await cleanup();
  }
  const file: SoakResultsFile = {
    scenario: 'soak',
    date: new Date().toISOString(),
    machine: machine(pin),
    settings: {
      warmupSeconds: 0,
      steadySeconds: Math.round(soakMinutes * 60),
      command: `npm run bench -- ${argv}`.trim(),
      sampleSeconds,
      churn,
      ...(hostility === null ? {} : { hostile: hostility }),
      maxGrowthPercent: SOAK_MAX_GROWTH_PERCENT,
    },
    runs,
  };
  await write(file);
  for (const r of runs) {
    console.log(
      `bench: ${labelOf(r)} N=${r.clients}, ${r.minutes} min: RSS ${r.rssStartMb} → ${r.rssEndMb} MB (${r.rssGrowthPercent} %), heap ${r.heapStartMb} → ${r.heapEndMb} MB (${r.heapGrowthPercent} %), ${r.errors} errors, ${r.moves} moves, ${r.resumes} resumes`,
    );
  }
}

async function benchFailover(scenario: FailoverScenario): Promise<void> {
  const runs: FailoverRow[] = [];
  try {
    etcd = await ensureEtcd(ETCD_URL, pin ? 0 : null);
    const total = clientCounts.length * repeats;
    // Cluster start and stop, ramp, warm-up and window.
    const perRun = 15 + warmupSeconds + steadySeconds;
    let done = 0;
    for (const clients of clientCounts) {
      for (let repeat = 1; repeat <= repeats; repeat++) {
        const left = (total - done) * (perRun + clients / connectPerSecond);
        const row = await runFailover({
          scenario,
          clients,
          repeat,
          warmupSeconds,
          steadySeconds,
          connectPerSecond,
          leaseTtlSeconds,
          persistIntervalMs,
          pin,
          etcdUrl: etcd.url,
          redisUrl: REDIS_URL,
          mysqlUrl: MYSQL_URL,
          onProgress: progressLine(done, total, left),
          onAbortable,
        });
        done++;
        keep(runs, row);
      }
    }
  } finally {
    await cleanup();
  }

  const file: FailoverResultsFile = {
    scenario,
    date: new Date().toISOString(),
    machine: machine(pin),
    settings: {
      warmupSeconds,
      steadySeconds,
      command: `npm run bench -- ${argv}`.trim(),
      repeats,
      ...FAILOVER_CLUSTER,
      leaseTtlSeconds,
      persistIntervalMs,
      connectPerSecond,
    },
    runs,
  };
  await write(file);
  if (scenario === 'engine-kill') {
    for (const s of engineKillSummary(runs)) {
      console.log(`bench: N=${s.clients}: ${s.resumed}/${s.affected} resumed, kill → SceneResumed p50 ${s.resumeP50Ms ?? '–'} ms p99 ${s.resumeP99Ms ?? '–'} ms, acked moves lost ≤ ${s.lostMovesMax} a player, unaffected p99 during ${s.unaffectedDuringP99Ms ?? '–'} ms`);
    }
  } else {
    for (const s of leaderKillSummary(runs)) {
      console.log(`bench: N=${s.clients}: new leader after ${s.newLeaderMinMs ?? '–'}–${s.newLeaderMaxMs ?? '–'} ms, p99 during ${s.windows.during.p99Ms ?? '–'} ms, errors ${s.windows.before.issues}/${s.windows.during.issues}/${s.windows.after.issues}`);
    }
  }
}

async function benchTravel(): Promise<void> {
  const runs: TravelResultsFile['runs'][number][] = [];
  try {
    etcd = await ensureEtcd(ETCD_URL, pin ? 0 : null);
    for (const [done, clients] of clientCounts.entries()) {
      const left = (clientCounts.length - done) * (15 + warmupSeconds + 2 * steadySeconds + clients / connectPerSecond);
      const rows = await runTravel({
        clients,
        warmupSeconds,
        steadySeconds,
        hopEveryMs,
        inputsPerSecond: 10,
        scenes: sceneCount,
        connectPerSecond,
        pin,
        etcdUrl: etcd.url,
        redisUrl: REDIS_URL,
        mysqlUrl: MYSQL_URL,
        onProgress: progressLine(done, clientCounts.length, left),
        onAbortable,
      });
      for (const row of rows) keep(runs, row);
    }
  } finally {
    await cleanup();
  }
  const file: TravelResultsFile = {
    scenario: 'travel',
    date: new Date().toISOString(),
    machine: machine(pin),
    settings: { warmupSeconds, steadySeconds, command: `npm run bench -- ${argv}`.trim(), hopEveryMs, inputsPerSecond: 10, scenes: sceneCount },
    runs,
  };
  await write(file);
  for (const r of runs) {
    console.log(`bench: ${r.scope} N=${r.clients}: ${r.travels} travels (${r.failedTravels} failed), p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms, inputs lost ${r.lostInputs} duplicated ${r.duplicatedInputs} of ${r.inputs}`);
  }
}

async function benchMigrate(): Promise<void> {
  const runs: MigrateResultsFile['runs'][number][] = [];
  try {
    etcd = await ensureEtcd(ETCD_URL, pin ? 0 : null);
    for (const [done, players] of clientCounts.entries()) {
      const left = (clientCounts.length - done) * (15 + warmupSeconds + (moves * moveEveryMs) / 1000 + players / connectPerSecond);
      const common = { warmupSeconds, moves, moveEveryMs, connectPerSecond, pin, etcdUrl: etcd.url, redisUrl: REDIS_URL, mysqlUrl: MYSQL_URL };
      keep(runs, await runMigrate({ ...common, players, onProgress: progressLine(done, clientCounts.length, left), onAbortable }));
    }
  } finally {
    await cleanup();
  }
  const settings = { warmupSeconds, command: `npm run bench -- ${argv}`.trim(), moves, moveEveryMs, inputsPerSecond: MIGRATE_INPUTS_PER_SECOND, tickMs: MIGRATE_TICK_MS };
  await write({ scenario: 'migrate', date: new Date().toISOString(), machine: machine(pin), settings, runs });
  for (const r of runs) {
    console.log(`bench: ${r.playersPerScene} players: ${r.moves} moves (frozen p50 ${r.frozenP50Ms} ms), stall p99 ${r.stallP99Ms} ms max ${r.stallMaxMs} ms, ${r.disconnects} disconnects, ${r.errors} errors, inputs lost ${r.lostInputs} duplicated ${r.duplicatedInputs} of ${r.inputs}`);
  }
}

async function benchScaling(which: ScalingScenario): Promise<void> {
  const runs: ScalingResultsFile['runs'][number][] = [];
  try {
    etcd = await ensureEtcd(ETCD_URL, pin ? 0 : null);
    for (const [done, players] of clientCounts.entries()) {
      const left = (clientCounts.length - done) * (40 + warmupSeconds + (which === 'scale-out' ? balanceWindowSeconds : 30) + players / connectPerSecond);
      const common = { scenario: which, scenes: sceneCount, warmupSeconds, balanceWindowSeconds, connectPerSecond, pin, etcdUrl: etcd.url, redisUrl: REDIS_URL, mysqlUrl: MYSQL_URL };
      keep(runs, await runScaling({ ...common, players, onProgress: progressLine(done, clientCounts.length, left), onAbortable }));
    }
  } finally {
    await cleanup();
  }
  const settings = {
    warmupSeconds,
    command: `npm run bench -- ${argv}`.trim(),
    inputsPerSecond: MIGRATE_INPUTS_PER_SECOND,
    tickMs: MIGRATE_TICK_MS,
    ...(which === 'scale-out' ? { balanceWindowSeconds } : {}),
  };
  await write({ scenario: which, date: new Date().toISOString(), machine: machine(pin), settings, runs });
  for (const r of runs) {
    const balance = r.secondsToBalance === undefined ? '' : `, balanced after ${r.secondsToBalance ?? 'never'} s (largest deviation ${r.maxDeviationPct} %)`;
    console.log(`bench: ${which} ${r.players} players in ${r.scenes} scenes: ${r.movedScenes} scenes moved${balance}, stall p99 ${r.stallP99Ms} ms max ${r.stallMaxMs} ms, ${r.disconnects} disconnects, ${r.errors} errors, inputs lost ${r.lostInputs} duplicated ${r.duplicatedInputs} of ${r.inputs}`);
  }
}

async function benchTimers(): Promise<void> {
  const runs: TimersResultsFile['runs'][number][] = [];
  try {
    const left = timerCounts.reduce((sum, n) => sum + 20 + warmupSeconds + 2 * steadySeconds + n / 20_000, 0);
    const rows = await runTimers({
      counts: timerCounts,
      warmupSeconds,
      steadySeconds,
      firesPerSecond,
      mysqlUrl: MYSQL_URL,
      persistIntervalMs,
      onProgress: progressLine(0, 1, left),
      onAbortable,
    });
    for (const row of rows) keep(runs, row);
  } finally {
    await cleanup();
  }
  const file: TimersResultsFile = {
    scenario: 'timers',
    date: new Date().toISOString(),
    machine: machine(false),
    settings: { warmupSeconds, steadySeconds, command: `npm run bench -- ${argv}`.trim(), firesPerSecond, tickMs: 50, store: 'mysql (MariaDB)', persistIntervalMs },
    runs,
  };
  await write(file);
  for (const r of runs) {
    console.log(`bench: ${r.pendingTimers} timers pending: tick p99 ${r.tickP99Ms} ms (baseline ${r.baselineTickP99Ms} ms), fired late p99 ${r.lateP99Ms} ms over ${r.firings} firings`);
  }
}

async function benchLeaderboard(): Promise<void> {
  const sizes = values.members.split(',').map((v) => positive('members', v.trim()));
  const seconds = steadySeconds;
  const { fills, runs } = await runLeaderboard({ sizes, seconds, concurrency: [1, 64], fillConcurrency: 256, redisUrl: REDIS_URL, onProgress: (line) => process.stderr.write(`[bench] leaderboard: ${line}\n`) });
  const file: LeaderboardResultsFile = {
    scenario: 'leaderboard',
    date: new Date().toISOString(),
    machine: machine(false),
    settings: { command: `npm run bench -- ${argv}`.trim(), warmupSeconds: 1, steadySeconds: seconds, concurrency: [1, 64], fillConcurrency: 256, redis: 'Redis 7 (Debian), on loopback' },
    fills,
    runs,
  };
  await write(file);
  for (const r of runs) console.log(`bench: ${r.members} members, ${r.op} ×${r.concurrency}: p99 ${r.p99Ms} ms, ${r.opsPerSec}/s`);
}

async function benchPlayerLogs(): Promise<void> {
  const rates = values.rates.split(',').map((v) => positive('rates', v.trim()));
  const runs = await runPlayerLogs({ rates, warmupSeconds, steadySeconds, mysqlUrl: MYSQL_URL, onProgress: (line) => process.stderr.write(`[bench] player-logs: ${line}\n`) });
  const file: PlayerLogsResultsFile = {
    scenario: 'player-logs',
    date: new Date().toISOString(),
    machine: machine(false),
    settings: { warmupSeconds, steadySeconds, command: `npm run bench -- ${argv}`.trim(), tickMs: 50, store: 'mysql (MariaDB)', flushMs: 500 },
    runs,
  };
  await write(file);
  for (const r of runs) console.log(`bench: ${r.eventsPerSec} player-log events/s: tick p99 ${r.tickP99Ms} ms, ${r.writtenPerSec} written/s, ${r.dropped} dropped`);
}

async function benchAoiTick(): Promise<void> {
  const runs: AoiTickResultsFile['runs'][number][] = [];
  for (const viewers of clientCounts) {
    for (const npcs of npcCounts) {
      process.stderr.write(`[bench] aoi-tick: ${npcs + viewers} entities, ${viewers} viewers\n`);
      runs.push(runAoiTick({ npcs, viewers, ticks: steadySeconds * 10, warmupTicks: warmupSeconds * 10, cellSize, hysteresis }));
    }
  }
  const file: AoiTickResultsFile = { scenario: 'aoi-tick', date: new Date().toISOString(), machine: machine(false), settings: aoiTickSettings(`npm run bench -- ${argv}`.trim(), warmupSeconds * 10, cellSize, hysteresis), runs };
  await write(file);
  for (const r of runs) console.log(`bench: ${r.entities} entities, ${r.viewers} viewers: replication p50 ${r.replicationP50Ms} ms p99 ${r.replicationP99Ms} ms (mean ${r.replicationMeanMs}), move p50 ${r.moveP50Ms} ms, ${r.bytesPerTick} bytes a tick`);
}
