/**
 * Runs one measurement: start a target server pinned to CPU 0, the load generator pinned to
 * CPU 1, sample the server's process tree (/proc) at the start and end of the steady window,
 * and turn it all into one result row.
 */
import type { AoiLayout } from './targets/project/aoi-map.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import type { LoadResult } from './loadgen/run.js';
import { scrapeTcpShare } from './frames-share.js';
import { replicationP99Ms, tickP99Ms, tickSnapshot, type TickSnapshot } from './aoi.js';
import { cpuPercent, processTree, sampleTree, type TreeSample } from './proc.js';
import { round } from './stats.js';
import type { TargetSpec } from './targets/index.js';

export interface RunRow {
  readonly target: 'project' | 'colyseus' | 'uws';
  readonly shape?: 'cluster' | 'embedded' | 'fat';
  readonly variant?: string;
  /** Colyseus: `ws` or `uws`. */
  readonly transport?: 'ws' | 'uws';
  readonly clients: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly serverDelayP50Ms: number;
  readonly serverDelayP99Ms: number;
  readonly inPerSec: number;
  readonly inBytesPerSec: number;
  readonly outPerSec: number;
  readonly outBytesPerSec: number;
  /** Server CPU over the steady window, percent of one core, summed over every server process. */
  readonly cpuPercent: number;
  /** Server CPU time per outbound message the clients received, microseconds. */
  readonly cpuUsPerMsg: number;
  /** `--rounds K` (K > 1): this row is the median of K rounds by CPU-µs per message (report/rounds.ts). */
  readonly rounds?: number;
  /** `--rounds K`: every round's CPU-µs per message, in the order they ran. */
  readonly cpuUsPerMsgRounds?: readonly number[];
  /** Server resident memory at the end of the window, summed, MB. */
  readonly rssMb: number;
  /** The same, once the server was ready and before any client connected. */
  readonly baselineRssMb: number;
  /**
   * `--idle-seconds`: the server's CPU with no client, percent of one core, summed over its
   * processes, sampled before its clients came (after {@link IDLE_SETTLE_SECONDS}): its fixed cost.
   */
  readonly idleCpuPercent?: number;
  /** Clients connected (and joined) at the end of the ramp. */
  readonly connected: number;
  readonly serverProcesses: number;
  /**
   * Each server process at the end of the window (root first): its name (script file), resident
   * memory and CPU over the window (percent of one core). Older results have none.
   */
  readonly processes?: readonly { readonly name: string; readonly rssMb: number; readonly cpuPercent: number }[];
  /** CPUs the server may use (1 when pinned). */
  readonly serverCpus: number;
  /** Connect failures + unexpected disconnects + coded errors the server answered with. */
  readonly failures: number;
  /** The first few failures' causes, when there were any. */
  readonly failureSamples?: readonly string[];
  readonly ticksPerClientPerSec: number;
  readonly loadGenCpuPercent: number;
  readonly loadGenSaturated: boolean;
  /**
   * This framework: the share of client frames its gateway forwarded to an engine over TCP
   * rather than in-process, 0–1 (separate processes: 1; a fat or embedded process: 0).
   */
  readonly tcpFrameShare?: number;
  /** reconnect-storm: clients that dropped and reconnected at once. */
  readonly dropped?: number;
  /** reconnect-storm: of those, back in their scene or room before the deadline. */
  readonly reconnected?: number;
  /** reconnect-storm: first drop → last client back, seconds (p50/p99/max are per-client drop → back). */
  readonly stormSeconds?: number;
  /** mmo-aoi: the scene's tick time p99 over the window (ms). */
  readonly tickP99Ms?: number | null;
  readonly replicationP99Ms?: number | null;
  /** mmo-aoi: entities a decoding client knew at the end of the window, on average. */
  readonly entitiesPerClient?: number;
  /** mmo-aoi: wandering NPC entities on the map (this framework). */
  readonly npcs?: number;
  /** mmo-aoi: where the walkers went (LoadOptions.layout). */
  readonly layout?: AoiLayout;
}

export type Scenario = 'mmo-move' | 'idle-ccu' | 'chat-fanout' | 'login-storm' | 'reconnect-storm' | 'mmo-aoi';

export interface RunOptions {
  readonly scenario: Scenario;
  readonly spec: TargetSpec;
  readonly clients: number;
  readonly warmupSeconds: number;
  readonly steadySeconds: number;
  readonly connectPerSecond?: number;
  /** Pin server to CPU 0 and generator to CPU 1 with taskset. @default true when taskset exists and there are ≥ 2 CPUs */
  readonly pin: boolean;
  /** Sample the server's CPU with no client for this long before its clients come (0 or absent: not measured). */
  readonly idleSeconds?: number;
  readonly etcdUrl?: string;
  /** Extra environment for the server (mmo-aoi: BENCH_AOI_NPCS). */
  readonly serverEnv?: Readonly<Record<string, string>>;
  /** mmo-aoi: where the walkers go (LoadOptions.layout). */
  readonly layout?: AoiLayout;
  readonly onProgress?: (line: string) => void;
  /** Called with a function that kills this run's processes (null once it is over): for SIGINT. */
  readonly onAbortable?: (abort: (() => Promise<void>) | null) => void;
}

/**
 * How long a server is left alone once ready before its idle CPU is sampled: what its start
 * leaves running (the JIT's compiles, the first full collection) is over by then.
 */
export const IDLE_SETTLE_SECONDS = 20;

/** The server tree's CPU with no client, percent of one core: {@link IDLE_SETTLE_SECONDS}, then `seconds` sampled. */
async function idleCpuPercent(pid: number, seconds: number, progress: ((line: string) => void) | undefined, label: string): Promise<number> {
  progress?.(`${label}: idle, settling for ${IDLE_SETTLE_SECONDS} s`);
  await delay(IDLE_SETTLE_SECONDS * 1000);
  progress?.(`${label}: idle, sampling for ${seconds} s`);
  const first = sampleTree([pid]);
  await delay(seconds * 1000);
  return cpuPercent(first, sampleTree([pid]));
}

const LOADGEN = fileURLToPath(new URL('../bin/loadgen.js', import.meta.url));

export function canPin(): boolean {
  return existsSync('/usr/bin/taskset') || existsSync('/bin/taskset');
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Start `node <args>`, pinned to `cpu` when given. */
export function start(cpu: number | null, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const [cmd, argv] = cpu === null ? [process.execPath, args] : ['taskset', ['-c', String(cpu), process.execPath, ...args]];
  // taskset execs node: the pid is node's own.
  return spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Call `onLine` with each JSON object a child prints on stdout; non-JSON lines are ignored. */
export function jsonLines(child: ChildProcess, onLine: (obj: Record<string, unknown>) => void): void {
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    try {
      onLine(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not ours
    }
  });
}

/** The first `max` characters the child writes on stderr, for an error message. */
export function collectStderr(child: ChildProcess, max = 8192): () => string {
  let text = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (text.length < max) text += d.toString();
  });
  return () => text.slice(0, max);
}

/** SIGKILL `children` and every process they started (an interrupted run). */
export function killTrees(children: readonly (ChildProcess | null)[]): Promise<void> {
  const roots = children.filter((c): c is ChildProcess => c !== null && c.pid !== undefined && c.exitCode === null && c.signalCode === null).map((c) => c.pid!);
  for (const p of roots.length === 0 ? [] : processTree(roots)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return Promise.resolve();
}

/**
 * SIGTERM the server and wait for its graceful exit; after `timeoutMs`, SIGKILL it and every
 * process it started (a gateway killed mid-shutdown would otherwise orphan its engine).
 */
export async function stopProcess(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const p of processTree([child.pid!])) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }, timeoutMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Node flags the operator adds to every server process of a run (`BENCH_SERVER_NODE_FLAGS`,
 * space-separated), for profiling: `--perf-basic-prof` for `perf record`, or `--cpu-prof
 * --cpu-prof-dir=DIR`. Only flags (each starts with `--`) are taken.
 */
function extraServerFlags(): string[] {
  const raw = process.env['BENCH_SERVER_NODE_FLAGS']?.trim() ?? '';
  if (raw === '') return [];
  const flags = raw.split(/\s+/);
  const bad = flags.find((f) => !f.startsWith('--'));
  if (bad !== undefined) throw new Error(`BENCH_SERVER_NODE_FLAGS holds node flags only (each starting with --), got ${JSON.stringify(bad)}`);
  return flags;
}

export async function runOne(o: RunOptions): Promise<RunRow> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.spec.env, ...o.serverEnv, PORT: String(port), SCENARIO: o.scenario };
  if (o.etcdUrl !== undefined) env['GOS_ETCD_URL'] = o.etcdUrl;
  const server = start(o.pin ? 0 : null, [...o.spec.nodeFlags, ...extraServerFlags(), o.spec.entry], env);
  const serverErr = collectStderr(server);
  let gen: ChildProcess | null = null;
  o.onAbortable?.(() => killTrees([server, gen]));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${o.spec.name} did not start within 60 s: ${serverErr()}`)), 60_000);
      jsonLines(server, (obj) => {
        if (obj['ready'] === true) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${o.spec.name} exited (${code}) before it was ready: ${serverErr()}`));
      });
    });

    // What the server holds before any client: idle-ccu reports memory per connection above it.
    const baseline = sampleTree([server.pid!]);
    const idle = (o.idleSeconds ?? 0) > 0 ? await idleCpuPercent(server.pid!, o.idleSeconds!, o.onProgress, `${o.spec.name} N=${o.clients}`) : null;
    const args = {
      scenario: o.scenario,
      target: o.spec.driver,
      baseUrl: `http://127.0.0.1:${port}`,
      clients: o.clients,
      warmupSeconds: o.warmupSeconds,
      steadySeconds: o.steadySeconds,
      ...(o.connectPerSecond === undefined ? {} : { connectPerSecond: o.connectPerSecond }),
      ...(o.layout === undefined ? {} : { layout: o.layout }),
    };
    gen = start(o.pin ? 1 : null, [LOADGEN, JSON.stringify(args)], process.env);
    const genErr = collectStderr(gen);
    let first: TreeSample | null = null;
    let last: TreeSample | null = null;
    let result: LoadResult | null = null;
    const baseUrl = `http://127.0.0.1:${port}`;
    // Filled in by the progress callback below (mmo-aoi).
    const ticks: { first: Promise<TickSnapshot | null> | null; last: Promise<TickSnapshot | null> | null } = { first: null, last: null };
    jsonLines(gen, (obj) => {
      if (obj['result'] !== undefined) {
        result = obj['result'] as LoadResult;
        return;
      }
      const phase = obj['phase'];
      if (phase === 'steady' && first === null) {
        first = sampleTree([server.pid!]);
        if (o.scenario === 'mmo-aoi') ticks.first = tickSnapshot(o.spec.target, baseUrl);
      }
      if (phase === 'done' && last === null) {
        last = sampleTree([server.pid!]);
        if (o.scenario === 'mmo-aoi') ticks.last = tickSnapshot(o.spec.target, baseUrl);
      }
      o.onProgress?.(`${o.spec.name} N=${o.clients}: ${String(phase)}, ${Math.ceil(Number(obj['secondsLeft']))} s left, ${String(obj['connected'])} connected`);
    });
    const exiting = gen;
    const code = await new Promise<number | null>((r) => exiting.once('exit', r));
    if (result === null || first === null || last === null) throw new Error(`load generator failed (exit ${code}): ${genErr()}`);
    const share = o.spec.target === 'project' ? await scrapeTcpShare(`http://127.0.0.1:${port}`) : null;
    const measured = toRow(o.spec, result, first, last, o.pin ? 1 : cpus().length, baseline);
    const row = idle === null ? measured : { ...measured, idleCpuPercent: round(idle, 2) };
    const aoi = o.scenario === 'mmo-aoi' ? { tickP99Ms: tickP99Ms(await ticks.first, await ticks.last), replicationP99Ms: replicationP99Ms(await ticks.first, await ticks.last) } : {};
    return share === null ? { ...row, ...aoi } : { ...row, ...aoi, tcpFrameShare: round(share, 3) };
  } finally {
    await stopProcess(server);
    o.onAbortable?.(null);
  }
}

export function toRow(spec: TargetSpec, r: LoadResult, first: TreeSample, last: TreeSample, serverCpus: number, baseline: TreeSample): RunRow {
  const cpu = cpuPercent(first, last);
  const windowSeconds = (last.at - first.at) / 1000;
  const delivered = r.outPerSec * r.steadySeconds;
  return {
    target: spec.target,
    ...(spec.shape === undefined ? {} : { shape: spec.shape }),
    ...(spec.variant === undefined ? {} : { variant: spec.variant }),
    ...(spec.transport === undefined ? {} : { transport: spec.transport }),
    clients: r.clients,
    p50Ms: r.latency.p50Ms,
    p99Ms: r.latency.p99Ms,
    maxMs: r.latency.maxMs,
    serverDelayP50Ms: r.serverDelay.p50Ms,
    serverDelayP99Ms: r.serverDelay.p99Ms,
    inPerSec: r.inPerSec,
    inBytesPerSec: r.inBytesPerSec,
    outPerSec: r.outPerSec,
    outBytesPerSec: r.outBytesPerSec,
    cpuPercent: round(cpu, 1),
    cpuUsPerMsg: delivered > 0 ? round(((cpu / 100) * windowSeconds * 1e6) / delivered, 2) : 0,
    rssMb: round(last.rssBytes / 1048576, 1),
    baselineRssMb: round(baseline.rssBytes / 1048576, 1),
    connected: r.connected,
    serverProcesses: last.pids.length,
    processes: last.processes.map((p) => {
      const before = first.processes.find((q) => q.pid === p.pid);
      const cpuOf = before === undefined || windowSeconds <= 0 ? 0 : (100 * (p.cpuSeconds - before.cpuSeconds)) / windowSeconds;
      return { name: p.name, rssMb: round(p.rssBytes / 1048576, 1), cpuPercent: round(cpuOf, 1) };
    }),
    serverCpus,
    failures: r.connectFailures + r.disconnects + r.errorFrames,
    ...(r.failureSamples.length === 0 ? {} : { failureSamples: r.failureSamples }),
    ticksPerClientPerSec: r.ticksPerClientPerSec,
    loadGenCpuPercent: r.loadGenCpuPercent,
    loadGenSaturated: r.loadGenSaturated,
    ...(r.storm === undefined ? {} : { dropped: r.storm.dropped, reconnected: r.storm.reconnected, stormSeconds: r.storm.seconds }),
    ...(r.entitiesPerClient === undefined ? {} : { entitiesPerClient: r.entitiesPerClient }),
  };
}
