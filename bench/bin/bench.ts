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
 *
 * Options: --targets project,project-embedded,colyseus,uws (the default; project-acked too on
 * request), --seconds 20
 * (steady window), --warmup 5, --connect-rate 500 (connections per second), --out bench/results,
 * --no-pin (do not taskset). Only loopback addresses are used; every process it starts is
 * stopped before it exits.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { ensureEtcd, type EtcdHandle } from '../src/etcd.js';
import { canPin, runOne, type RunRow, type Scenario } from '../src/orchestrate.js';
import { machine, ratios, type ResultsFile } from '../src/report/results.js';
import { writeResults } from '../src/report/write.js';
import { TARGETS, targetByName, type TargetSpec } from '../src/targets/index.js';

const BENCH_DIR = fileURLToPath(new URL('../..', import.meta.url));
const DEFAULT_OUT = path.join(BENCH_DIR, 'results');
const SCENARIOS: readonly Scenario[] = ['mmo-move', 'idle-ccu', 'chat-fanout', 'login-storm', 'reconnect-storm'];
/** Client counts when --clients is not given. idle-ccu stays under the 20,000 open files a process may have here. */
const DEFAULT_CLIENTS: Record<Scenario, string> = { 'mmo-move': '500,1000,2000,3000', 'idle-ccu': '2000,6000,12000,18000', 'chat-fanout': '1000,2000,5000', 'login-storm': '10,20,40,80', 'reconnect-storm': '1000,3000,6000' };
const DEFAULT_TARGETS = ['project', 'project-embedded', 'colyseus', 'uws'];

function usage(msg?: string): never {
  if (msg !== undefined) console.error(`bench: ${msg}`);
  console.error(`usage: npm run bench -- mmo-move|idle-ccu|chat-fanout|login-storm|reconnect-storm [--clients 500,1000,2000,3000] [--targets ${TARGETS.map((t) => t.name).join(',')}]
       [--seconds 20] [--warmup 5] [--connect-rate 500] [--out ${path.relative(process.cwd(), DEFAULT_OUT) || DEFAULT_OUT}] [--no-pin]`);
  process.exit(2);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        clients: { type: 'string' },
        targets: { type: 'string', default: DEFAULT_TARGETS.join(',') },
        seconds: { type: 'string', default: '20' },
        warmup: { type: 'string', default: '5' },
        'connect-rate': { type: 'string', default: '500' },
        out: { type: 'string', default: DEFAULT_OUT },
        'no-pin': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
})();
if (values.help) usage();
const scenario = (positionals[0] ?? 'mmo-move') as Scenario;
if (!SCENARIOS.includes(scenario)) usage(`unknown scenario "${scenario}" (known: ${SCENARIOS.join(', ')})`);

const positive = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) usage(`--${name} must be a positive integer, got "${v}"`);
  return n;
};
const clientCounts = (values.clients ?? DEFAULT_CLIENTS[scenario]).split(',').map((v) => positive('clients', v.trim()));
let targets: TargetSpec[] = values.targets.split(',').map((name) => targetByName(name.trim()) ?? usage(`unknown target "${name}"`));
if (scenario === 'login-storm') {
  // Only this framework has a login API; Colyseus and the bare server have nothing to compare.
  const skipped = targets.filter((t) => t.target !== 'project').map((t) => t.name);
  if (skipped.length > 0) console.error(`bench: login-storm runs only against targets with a login API; skipping ${skipped.join(', ')}`);
  targets = targets.filter((t) => t.target === 'project');
  if (targets.length === 0) usage('login-storm needs a project target');
}
const steadySeconds = positive('seconds', values.seconds);
const warmupSeconds = Number(values.warmup);
if (!Number.isFinite(warmupSeconds) || warmupSeconds < 0) usage('--warmup must be ≥ 0');
const connectPerSecond = positive('connect-rate', values['connect-rate']);
const pin = !values['no-pin'] && canPin() && availableParallelism() >= 2;
if (!values['no-pin'] && !pin) console.error('bench: not pinning (needs taskset and 2 CPUs): server and load generator share the CPUs');
const outDir = path.resolve(values.out);

let etcd: EtcdHandle | null = null;
const cleanup = async (): Promise<void> => {
  await etcd?.stop();
};
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

const runs: RunRow[] = [];
const started = Date.now();
try {
  if (targets.some((t) => t.needsEtcd)) etcd = await ensureEtcd(process.env['GOS_ETCD_URL'] ?? 'http://127.0.0.1:2379', pin ? 0 : null);
  const total = clientCounts.length * targets.length;
  const perRun = warmupSeconds + steadySeconds;
  let done = 0;
  for (const [i, clients] of clientCounts.entries()) {
    // Alternate the order so slow drift (thermal, page cache) does not always favour one target.
    const order = targets.map((_, k) => targets[(k + i) % targets.length]!);
    for (const spec of order) {
      const left = (total - done) * (perRun + clients / connectPerSecond + 3);
      const row = await runOne({
        scenario,
        spec,
        clients,
        warmupSeconds,
        steadySeconds,
        connectPerSecond,
        pin,
        ...(etcd === null ? {} : { etcdUrl: etcd.url }),
        onProgress: (line) => process.stderr.write(`\r[bench ${done + 1}/${total}, ~${Math.round(left)} s left] ${line}`.padEnd(110).slice(0, 140)),
      });
      done++;
      runs.push(row);
      process.stderr.write('\n');
      console.log(JSON.stringify(row));
    }
  }
} finally {
  await cleanup();
}

const argv = process.argv.slice(2).join(' ');
const file: ResultsFile = {
  scenario,
  date: new Date().toISOString(),
  machine: machine(pin),
  settings: { warmupSeconds, steadySeconds, command: `npm run bench -- ${argv}`.trim() },
  runs,
};
await writeResults(outDir, file, outDir === DEFAULT_OUT ? path.join(BENCH_DIR, 'RESULTS.md') : null);
console.log(`\nbench: ${runs.length} runs in ${Math.round((Date.now() - started) / 1000)} s → ${path.relative(process.cwd(), outDir) || outDir}/${scenario}.{json,md,html}`);
for (const r of scenario === 'mmo-move' ? ratios(runs) : []) {
  console.log(`bench: N=${r.clients} project/${r.versus}: CPU-µs/msg ×${r.cpuUsPerMsg ?? '–'}, p99 ×${r.p99Ms ?? '–'}, RSS ×${r.rssMb ?? '–'}`);
}
