/**
 * The soak scenario: N bots play mmo-move against one server for M minutes while a few of them
 * drop their connection and resume their session every ten seconds; every `sampleSeconds` the
 * server runs a full collection (it is started with `--expose-gc`; the bench servers' memory
 * probe answers SIGUSR2) and its heap and resident memory are read. What a server keeps per
 * move, per connection or per closed socket shows as growth between the start sample (minute 2,
 * once caches and pools are warm) and the end.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostileResult } from './loadgen/hostile.js';
import type { LoadResult } from './loadgen/run.js';
import { collectStderr, freePort, jsonLines, killTrees, start, stopProcess } from './orchestrate.js';
import { cpuPercent, sampleTree, type TreeSample } from './proc.js';
import type { Machine } from './report/results.js';
import { round } from './stats.js';
import type { TargetSpec } from './targets/index.js';

/** Drops and resumes: every `everySeconds`, this `fraction` of the clients (0: none). */
export interface Churn {
  readonly everySeconds: number;
  readonly fraction: number;
}

/** Hostile sockets beside the players (src/loadgen/hostile.ts): how many, and frames each sends a second. */
export interface Hostility {
  readonly sockets: number;
  readonly framesPerSecond: number;
}

/** The default: 50 hostile sockets at 20 frames a second, about 1.8 M hostile frames in 30 minutes. */
export const SOAK_HOSTILE: Hostility = { sockets: 50, framesPerSecond: 20 };

/** The default: every 10 s, 5 % of the clients drop their connection and resume their session on a new one. */
export const SOAK_CHURN: Churn = { everySeconds: 10, fraction: 0.05 };
/** The start sample: at minute 2, or a third into a run shorter than 6 minutes. */
export const SOAK_START_SECONDS = 120;
/** Growth from the start sample to the end the scenario accepts. */
export const SOAK_MAX_GROWTH_PERCENT = 5;

export interface SoakSample {
  /** Seconds into the measured window. */
  readonly second: number;
  /** Resident memory of the server's process tree after a full collection, MB. */
  readonly rssMb: number;
  /** V8 heap in use after it, every thread (main and scene threads), MB. */
  readonly heapMb: number;
  /** Of which the scene threads', MB. */
  readonly workersHeapMb: number;
  /** V8 heap committed (in use or not), every thread, MB: what the heaps hold of the RSS. */
  readonly heapCommittedMb: number;
  /** Memory of ArrayBuffers (socket buffers, frames) on the main thread, MB. */
  readonly arrayBuffersMb: number;
}

export interface SoakRow {
  readonly target: TargetSpec['target'];
  readonly shape?: 'cluster' | 'embedded' | 'fat';
  readonly clients: number;
  readonly minutes: number;
  /** The second of the window the start figures were sampled at (120 in a run of 6 minutes or more). */
  readonly startSecond: number;
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  readonly heapStartMb: number;
  readonly heapEndMb: number;
  readonly rssGrowthPercent: number;
  readonly heapGrowthPercent: number;
  /** Connect failures, unexpected disconnects, failed resumes and ERROR frames. */
  readonly errors: number;
  readonly errorSamples?: readonly string[];
  /** Moves the clients sent in the window. */
  readonly moves: number;
  /** Connections dropped and resumed in the window. */
  readonly resumes: number;
  readonly p99Ms: number;
  /** Server CPU over the window, percent of one core. */
  readonly cpuPercent: number;
  /** False when the server could not run a full collection (no --expose-gc): figures include garbage. */
  readonly collected: boolean;
  readonly samples: readonly SoakSample[];
  /** What the hostile sockets sent and got, when there were any (not counted in `errors`). */
  readonly hostile?: HostileResult;
}

export interface SoakResultsFile {
  readonly scenario: 'soak';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly warmupSeconds: 0;
    readonly steadySeconds: number;
    readonly command: string;
    readonly sampleSeconds: number;
    readonly churn: Churn;
    /** Absent: none. */
    readonly hostile?: Hostility;
    readonly maxGrowthPercent: number;
  };
  readonly runs: readonly SoakRow[];
}

export interface SoakOptions {
  readonly spec: TargetSpec;
  readonly churn: Churn;
  /** Hostile sockets beside the players; null: none. */
  readonly hostile: Hostility | null;
  readonly clients: number;
  readonly minutes: number;
  readonly sampleSeconds: number;
  readonly connectPerSecond: number;
  readonly pin: boolean;
  readonly etcdUrl?: string;
  readonly onProgress?: (line: string) => void;
  /** Called with a function that kills this run's processes (null once it is over): for SIGINT. */
  readonly onAbortable?: (abort: (() => Promise<void>) | null) => void;
}

const LOADGEN = fileURLToPath(new URL('../bin/loadgen.js', import.meta.url));
const MB = 1048576;

interface Probe {
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly workersHeapUsedBytes: number;
  readonly workersHeapTotalBytes: number;
  readonly arrayBuffersBytes: number;
  readonly collected: boolean;
}

function isProbe(v: unknown): v is Probe {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    typeof p['heapUsedBytes'] === 'number' &&
    typeof p['heapTotalBytes'] === 'number' &&
    typeof p['workersHeapUsedBytes'] === 'number' &&
    typeof p['workersHeapTotalBytes'] === 'number' &&
    typeof p['arrayBuffersBytes'] === 'number' &&
    typeof p['collected'] === 'boolean'
  );
}

export function growthPercent(from: number, to: number): number {
  return from > 0 ? round(((to - from) / from) * 100, 2) : 0;
}

/** The sample the run's growth is measured from: the first at or after `SOAK_START_SECONDS` (a third of a short run). */
export function startSample(samples: readonly SoakSample[], windowSeconds: number): SoakSample | undefined {
  const from = Math.min(SOAK_START_SECONDS, windowSeconds / 3);
  return samples.find((s) => s.second >= from) ?? samples[samples.length - 1];
}

export async function runSoak(o: SoakOptions): Promise<SoakRow> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.spec.env, PORT: String(port), SCENARIO: 'soak' };
  if (o.etcdUrl !== undefined) env['GOS_ETCD_URL'] = o.etcdUrl;
  const server = start(o.pin ? 0 : null, ['--expose-gc', ...o.spec.nodeFlags, o.spec.entry], env);
  const serverErr = collectStderr(server);
  let gen: ChildProcess | null = null;
  o.onAbortable?.(() => killTrees([server, gen]));
  /** Resolvers of probes asked for and not answered yet, oldest first. */
  const waiting: Array<(p: Probe) => void> = [];
  let ready: () => void = () => {};
  const whenReady = new Promise<void>((resolve) => (ready = resolve));
  jsonLines(server, (obj) => {
    if (obj['ready'] === true) ready();
    if (obj['memory'] !== undefined && isProbe(obj['memory'])) waiting.shift()?.(obj['memory']);
  });
  try {
    await withDeadline(whenReady, server, 60_000, () => `${o.spec.name} did not start within 60 s: ${serverErr()}`);
    const windowSeconds = Math.round(o.minutes * 60);
    const probe = async (): Promise<{ probe: Probe; tree: TreeSample }> => {
      const answered = new Promise<Probe>((resolve) => waiting.push(resolve));
      server.kill('SIGUSR2');
      const p = await withDeadline(answered, server, 30_000, () => `${o.spec.name} did not answer the memory probe within 30 s: ${serverErr()}`);
      return { probe: p, tree: sampleTree([server.pid!]) };
    };

    const args = {
      scenario: 'soak',
      target: o.spec.driver,
      baseUrl: `http://127.0.0.1:${port}`,
      clients: o.clients,
      warmupSeconds: 0,
      steadySeconds: windowSeconds,
      connectPerSecond: o.connectPerSecond,
      churn: o.churn,
      ...(o.hostile === null ? {} : { hostile: o.hostile }),
    };
    gen = start(o.pin ? 1 : null, [LOADGEN, JSON.stringify(args)], process.env);
    const genErr = collectStderr(gen);
    const samples: SoakSample[] = [];
    let collected = true;
    let first: TreeSample | null = null;
    let last: TreeSample | null = null;
    let windowStart = 0;
    let result: LoadResult | null = null;
    let hostile: HostileResult | null = null;
    // Probes run one at a time, in order: a slow collection delays the next, never overlaps it.
    let chain: Promise<void> = Promise.resolve();
    const failure: { error: Error | null } = { error: null };
    const sample = (): Promise<void> =>
      (chain = chain.then(async () => {
        if (failure.error !== null) return;
        try {
          const { probe: p, tree } = await probe();
          collected &&= p.collected;
          first ??= tree;
          last = tree;
          samples.push({
            second: round((tree.at - windowStart) / 1000, 1),
            rssMb: round(tree.rssBytes / MB, 1),
            heapMb: round((p.heapUsedBytes + p.workersHeapUsedBytes) / MB, 2),
            workersHeapMb: round(p.workersHeapUsedBytes / MB, 2),
            heapCommittedMb: round((p.heapTotalBytes + p.workersHeapTotalBytes) / MB, 2),
            arrayBuffersMb: round(p.arrayBuffersBytes / MB, 2),
          });
        } catch (err) {
          failure.error = err instanceof Error ? err : new Error(String(err));
        }
      }));
    let timer: ReturnType<typeof setInterval> | undefined;
    let ended = false;
    jsonLines(gen, (obj) => {
      if (obj['result'] !== undefined) {
        result = obj['result'] as LoadResult;
        return;
      }
      if (obj['hostile'] !== undefined) {
        hostile = obj['hostile'] as HostileResult;
        return;
      }
      const phase = obj['phase'];
      const secondsLeft = Number(obj['secondsLeft']);
      if (phase === 'steady' && windowStart === 0) {
        windowStart = performance.now();
        void sample();
        timer = setInterval(() => void sample(), o.sampleSeconds * 1000);
      }
      // The end sample is taken with every client still playing (the generator reports every
      // 5 s): once the window is over, the clients disconnect, and their sockets' teardown
      // would be measured instead.
      if (phase === 'steady' && windowStart !== 0 && !ended && secondsLeft <= 5) {
        ended = true;
        clearInterval(timer);
        void sample();
      }
      if (phase === 'done') clearInterval(timer);
      const latest = samples[samples.length - 1];
      const memory = latest === undefined ? '' : `, RSS ${latest.rssMb} MB, heap ${latest.heapMb} MB`;
      o.onProgress?.(`${o.spec.name} N=${o.clients}: ${String(phase)}, ${Math.ceil(Number(obj['secondsLeft']))} s left, ${String(obj['connected'])} connected${memory}`);
    });
    const exiting = gen;
    const code = await new Promise<number | null>((r) => exiting.once('exit', r));
    clearInterval(timer);
    await chain;
    if (failure.error !== null) throw failure.error;
    const r = result as LoadResult | null;
    if (r === null || first === null || last === null) throw new Error(`load generator failed (exit ${code}): ${genErr()}`);
    const h = hostile as HostileResult | null;
    if (o.hostile !== null && h === null) throw new Error(`the hostile sockets reported nothing (exit ${code}): ${genErr()}`);
    const from = startSample(samples, windowSeconds)!;
    const end = samples[samples.length - 1]!;
    const errors = r.connectFailures + r.disconnects + r.errorFrames;
    return {
      target: o.spec.target,
      ...(o.spec.shape === undefined ? {} : { shape: o.spec.shape }),
      clients: o.clients,
      minutes: o.minutes,
      startSecond: from.second,
      rssStartMb: from.rssMb,
      rssEndMb: end.rssMb,
      heapStartMb: from.heapMb,
      heapEndMb: end.heapMb,
      rssGrowthPercent: growthPercent(from.rssMb, end.rssMb),
      heapGrowthPercent: growthPercent(from.heapMb, end.heapMb),
      errors,
      ...(errors === 0 ? {} : { errorSamples: r.failureSamples }),
      moves: Math.round(r.inPerSec * r.steadySeconds),
      resumes: r.churn?.reconnects ?? 0,
      p99Ms: r.latency.p99Ms,
      cpuPercent: round(cpuPercent(first, last), 1),
      collected,
      samples,
      ...(h === null ? {} : { hostile: h }),
    };
  } finally {
    await stopProcess(server);
    o.onAbortable?.(null);
  }
}

/** `p`, or a rejection with `why()` after `ms` or when `child` exits first. */
function withDeadline<T>(p: Promise<T>, child: ChildProcess, ms: number, why: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (): void => reject(new Error(why()));
    const timer = setTimeout(fail, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      fail();
    };
    child.once('exit', onExit);
    p.then(
      (v) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
