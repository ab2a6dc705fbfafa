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
 * Options: --targets project,project-fat,project-embedded,colyseus,colyseus-uws,uws (the default; project-acked, and for
 * mmo-move uws-worker, the calibration of the fat-process shape, too on request), --seconds 20
 * (steady window), --warmup 5, --connect-rate 500 (connections per second), --out bench/results,
 * --no-pin (do not taskset), --rounds 1 (make every run K times, alternating, and report each
 * target's median round: report/rounds.ts). engine-kill and leader-kill run only this framework, as a cluster
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
 *
 * This file parses and checks the command line into a BenchContext (src/runs/context.ts) and
 * hands it to the scenario's runner (src/runs/).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { parseCommandLine } from '@gos/cluster';
import type { FailoverScenario } from '../src/loadgen/failover.js';
import { canPin, type Scenario } from '../src/orchestrate.js';
import { SOAK_HOSTILE, type Churn, type Hostility } from '../src/soak.js';
import { SCALING_SCENARIOS, type ScalingScenario } from '../src/scaling.js';
import { TARGETS, targetByName, type TargetSpec } from '../src/targets/index.js';
import { AOI_CELL, AOI_HYSTERESIS, AOI_LAYOUTS, type AoiLayout } from '../src/targets/project/aoi-map.js';
import { BenchSession, type BenchContext } from '../src/runs/context.js';
import { benchMigrate, benchScaling, benchTravel } from '../src/runs/cluster.js';
import { benchFailover } from '../src/runs/failover.js';
import { benchAoiTick, benchLeaderboard, benchPlayerLogs, benchTimers } from '../src/runs/in-process.js';
import { benchSoak } from '../src/runs/soak.js';
import { benchTargets } from '../src/runs/targets.js';

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
/** The scenarios whose runs may sample each server's idle CPU first (--idle-seconds; mmo-aoi's rows are its own). */
const IDLE_CPU_SCENARIOS: readonly Scenario[] = ['mmo-move', 'idle-ccu', 'chat-fanout', 'login-storm', 'reconnect-storm'];
const DEFAULT_TARGETS = ['project', 'project-fat', 'project-embedded', 'colyseus', 'colyseus-uws', 'uws'];

const USAGE = `usage: npm run bench -- mmo-move|idle-ccu|chat-fanout|login-storm|reconnect-storm [--clients 500,1000,2000,3000] [--targets ${TARGETS.map((t) => t.name).join(',')}]
       [--seconds 20] [--warmup 5] [--rounds 1] [--idle-seconds 0] [--connect-rate 500] [--out ${path.relative(process.cwd(), DEFAULT_OUT) || DEFAULT_OUT}] [--no-pin]
       npm run bench -- engine-kill|leader-kill [--clients 300] [--repeats 3] [--seconds 20] [--warmup 5] [--connect-rate 100]
       [--lease-ttl 5] [--persist-ms 5000] [--out …] [--no-pin]
       npm run bench -- soak [--clients 300] [--minutes 30] [--sample-seconds 60] [--churn-percent 5] [--churn-every 10] [--hostile 50] [--hostile-rate 20] [--targets project-embedded]
       [--connect-rate 100] [--out …] [--no-pin]
       npm run bench -- travel [--clients 200] [--hop-every 3000] [--scenes 6] [--seconds 20] [--warmup 5] [--connect-rate 100] [--out …] [--no-pin]
       npm run bench -- mmo-aoi [--clients 1000,2000,5000] [--npcs 0[,9000…]] [--layouts mixed[,uniform,crowd]] [--cell 500] [--hysteresis 50] [--near-radius R] [--max-clients-uws N] [--targets project-embedded,uws] [--seconds 20] [--warmup 5] [--out …] [--no-pin]
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
      rounds: { type: 'string', default: '1' },
      'idle-seconds': { type: 'string', default: '0' },
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
      'near-radius': { type: 'string' },
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
if (scenario !== 'mmo-move' && targets.some((t) => t.name === 'uws-worker')) {
  // The calibration of the fat-process shape plays the reference scenario only.
  usage(`uws-worker plays mmo-move only, not ${scenario}`);
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
const rounds = positive('rounds', values.rounds);
if (rounds > 1 && (ownCluster || scenario === 'soak')) usage(`--rounds is for mmo-move, mmo-aoi, idle-ccu, chat-fanout, login-storm and reconnect-storm, not ${scenario}`);
/** Each target server's CPU with no client, sampled this long before its run (0: not measured). */
const idleSeconds = Number(values['idle-seconds']);
if (!Number.isInteger(idleSeconds) || idleSeconds < 0) usage(`--idle-seconds must be a whole number ≥ 0, got "${values['idle-seconds']}"`);
if (idleSeconds > 0 && !IDLE_CPU_SCENARIOS.some((t) => t === scenario)) {
  usage(`--idle-seconds is for ${IDLE_CPU_SCENARIOS.join(', ')}, not ${scenario}`);
}
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
/** mmo-aoi: the aoi scene's near band (interest.nearRadius; its positions go every 3rd tick beyond it); none by default. */
const nearRadius = values['near-radius'] === undefined ? null : positive('near-radius', values['near-radius']);
if (scenario !== 'mmo-aoi' && nearRadius !== null) usage('--near-radius is for mmo-aoi');
/** mmo-aoi: the whole-map broadcast is skipped above this many clients (its bytes grow with N²). */
const maxClientsUws = values['max-clients-uws'] === undefined ? Number.POSITIVE_INFINITY : positive('max-clients-uws', values['max-clients-uws']);
const leaseTtlSeconds = positive('lease-ttl', values['lease-ttl']);
const persistIntervalMs = positive('persist-ms', values['persist-ms']);
const pin = !values['no-pin'] && canPin() && availableParallelism() >= 2;
if (!values['no-pin'] && !pin) console.error('bench: not pinning (needs taskset and 2 CPUs): server and load generator share the CPUs');
const outDir = path.resolve(values.out);
// Read by their scenario only: another scenario leaves these flags unchecked.
const memberCounts = scenario === 'leaderboard' ? values.members.split(',').map((v) => positive('members', v.trim())) : [];
const logRates = scenario === 'player-logs' ? values.rates.split(',').map((v) => positive('rates', v.trim())) : [];

/** The services a cluster of processes needs (engine-kill, leader-kill, travel; etcd also for targets on etcd). */
const ETCD_URL = process.env['GOS_ETCD_URL'] ?? 'http://127.0.0.1:2379';
const REDIS_URL = process.env['GOS_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MYSQL_URL = process.env['GOS_MYSQL_URL'] ?? 'mysql://gos:gos@127.0.0.1:3306/gos_test';

const session = new BenchSession({ outDir, resultsMd: outDir === DEFAULT_OUT ? path.join(BENCH_DIR, 'RESULTS.md') : null, etcdUrl: ETCD_URL, pin });
session.cleanupOnSignals();
const ctx: BenchContext = {
  session,
  services: { etcdUrl: ETCD_URL, redisUrl: REDIS_URL, mysqlUrl: MYSQL_URL },
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  clientCounts,
  targets,
  warmupSeconds,
  steadySeconds,
  rounds,
  idleSeconds,
  connectPerSecond,
  pin,
  soakMinutes,
  sampleSeconds,
  churn,
  hostility,
  repeats,
  leaseTtlSeconds,
  persistIntervalMs,
  hopEveryMs,
  moves,
  moveEveryMs,
  sceneCount,
  balanceWindowSeconds,
  timerCounts,
  firesPerSecond,
  memberCounts,
  logRates,
  npcCounts,
  layouts,
  cellSize,
  hysteresis,
  nearRadius,
  maxClientsUws,
};
if (failover) await benchFailover(ctx, scenario as FailoverScenario);
else if (scenario === 'soak') await benchSoak(ctx);
else if (scenario === 'travel') await benchTravel(ctx);
else if (scenario === 'migrate') await benchMigrate(ctx);
else if (scaling) await benchScaling(ctx, scenario as ScalingScenario);
else if (scenario === 'timers') await benchTimers(ctx);
else if (scenario === 'leaderboard') await benchLeaderboard(ctx);
else if (scenario === 'player-logs') await benchPlayerLogs(ctx);
else if (scenario === 'aoi-tick') await benchAoiTick(ctx);
else await benchTargets(ctx, scenario as Scenario);
