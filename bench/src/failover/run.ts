/**
 * One repeat of a failover scenario: a fresh cluster ({@link BenchCluster}), the load generator
 * (bin/loadgen.js, its own process, pinned to CPU 1 while the cluster is pinned to CPU 0),
 * a SIGKILL in the second quarter of the measured window, and one result row.
 *
 * - engine-kill: the engine hosting the most players (its load in the cluster status) is
 *   killed; the load generator is told which scenes were on it.
 * - leader-kill: the coordinator leader (from the status) is killed; the status is polled until
 *   another coordinator leads, and the load generator is told when.
 *
 * Whatever happens, the load generator and every member of the cluster are stopped before it
 * returns (SIGKILL for what does not stop), and the cluster's etcd keys, Redis keys and
 * database are removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ClusterStatus } from '@gos/cluster';
import { nowMs } from '../loadgen/driver.js';
import type { AffectedResult, FailoverLoadResult, FailoverScenario, FailoverWindows } from '../loadgen/failover.js';
import { collectStderr, jsonLines } from '../orchestrate.js';
import { round } from '../stats.js';
import { BenchCluster, killLeftovers } from './cluster.js';

const LOADGEN = fileURLToPath(new URL('../../bin/loadgen.js', import.meta.url));

export interface FailoverRunOptions {
  readonly scenario: FailoverScenario;
  readonly clients: number;
  /** 1-based number of this repeat. */
  readonly repeat: number;
  readonly warmupSeconds: number;
  readonly steadySeconds: number;
  readonly connectPerSecond: number;
  readonly leaseTtlSeconds: number;
  readonly persistIntervalMs: number;
  /** Cluster on CPU 0, load generator on CPU 1. */
  readonly pin: boolean;
  readonly etcdUrl: string;
  readonly redisUrl: string;
  readonly mysqlUrl: string;
  readonly onProgress?: (line: string) => void;
  /** Called with a function that kills everything this run started and removes its data (for the caller's SIGINT handler), and with null once the run is over. */
  readonly onAbortable?: (abort: (() => Promise<void>) | null) => void;
}

export interface FailoverRow {
  readonly scenario: FailoverScenario;
  readonly clients: number;
  readonly repeat: number;
  readonly connected: number;
  readonly connectFailures: number;
  readonly failureSamples?: readonly string[];
  /** Bots per scene (one scene per gateway). */
  readonly perScene: readonly number[];
  /** Each engine's players just before the kill, as the cluster status reported them. */
  readonly playersPerEngine: Readonly<Record<string, number>>;
  /** Member killed with SIGKILL. */
  readonly killed: string;
  /** Seconds into the measured window when it was killed. */
  readonly killAtSeconds: number;
  /** engine-kill: the scenes that were on it. */
  readonly killedScenes?: readonly string[];
  /** engine-kill: kill → status shows every one of those scenes placed on another engine, ms. */
  readonly replacedMs?: number | null;
  readonly affected?: AffectedResult;
  /** leader-kill: the coordinator that took over, and kill → first status naming it, ms. */
  readonly newLeader?: string | null;
  readonly newLeaderMs?: number | null;
  /** leader-kill: mean time one status read took (the resolution of newLeaderMs), ms. */
  readonly statusReadMs?: number;
  /** Players not on the killed member (leader-kill: every player): before the kill, during the failover, after it. */
  readonly unaffected: FailoverWindows;
  readonly unexpectedResumes: number;
  readonly loadGenCpuPercent: number;
  readonly loadGenSaturated: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runFailover(o: FailoverRunOptions): Promise<FailoverRow> {
  const progress = (what: string): void => o.onProgress?.(`${o.scenario} N=${o.clients} #${o.repeat}: ${what}`);
  progress('starting the cluster');
  let gen: ChildProcess | null = null;
  let cluster: BenchCluster | null = null;
  o.onAbortable?.(async () => {
    if (gen?.pid !== undefined && gen.exitCode === null) killLeftovers([gen.pid]);
    await cluster?.abort();
  });
  try {
    cluster = new BenchCluster({
      etcdUrl: o.etcdUrl,
      redisUrl: o.redisUrl,
      mysqlUrl: o.mysqlUrl,
      leaseTtlSeconds: o.leaseTtlSeconds,
      persistIntervalMs: o.persistIntervalMs,
      pinCpu: o.pin ? 0 : null,
    });
    await cluster.start();
    const c = cluster;
    const args = {
      scenario: o.scenario,
      gatewayUrls: c.gatewayUrls,
      clients: o.clients,
      warmupSeconds: o.warmupSeconds,
      steadySeconds: o.steadySeconds,
      connectPerSecond: o.connectPerSecond,
    };
    const argv = [LOADGEN, JSON.stringify(args)];
    const child = o.pin ? spawn('taskset', ['-c', '1', process.execPath, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] }) : spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    gen = child;
    const genErr = collectStderr(child);
    const tell = (event: Record<string, unknown>): void => {
      if (child.stdin !== null && !child.stdin.destroyed) child.stdin.write(`${JSON.stringify(event)}\n`);
    };
    let result: FailoverLoadResult | null = null;
    let steadyAt: number | null = null;
    let onSteady: () => void = () => {};
    const steady = new Promise<void>((resolve) => (onSteady = resolve));
    jsonLines(child, (obj) => {
      if (obj['result'] !== undefined) {
        result = obj['result'] as FailoverLoadResult;
        return;
      }
      if (obj['phase'] === 'steady' && steadyAt === null) {
        steadyAt = nowMs();
        onSteady();
      }
      const extra = obj['affected'] === undefined ? '' : `, ${String(obj['resumed'])}/${String(obj['affected'])} resumed`;
      progress(`${String(obj['phase'])}, ${Math.ceil(Number(obj['secondsLeft']))} s left, ${String(obj['connected'])} connected${extra}`);
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));

    // A quarter into the window, plus a random part: over one save period for engine-kill, so
    // that the repeats sample where in it a crash falls (the lost moves depend on it).
    const quarterMs = Math.max(1000, o.steadySeconds * 250);
    const killAfterMs = quarterMs + Math.random() * (o.scenario === 'engine-kill' ? Math.min(o.persistIntervalMs, quarterMs) : quarterMs);
    const failover = (async () => {
      const which = await Promise.race([steady.then(() => 'steady' as const), exited.then(() => 'exited' as const)]);
      if (which === 'exited') return null;
      await sleep(killAfterMs);
      const windowEnd = steadyAt! + o.steadySeconds * 1000;
      return o.scenario === 'engine-kill' ? killEngine(c, tell, progress, windowEnd) : killLeader(c, tell, progress, windowEnd);
    })();
    // Awaited below, once the load generator is done; a failure meanwhile must not count as unhandled.
    failover.catch(() => {});
    const code = await exited;
    const done = await failover;
    if (result === null) throw new Error(`load generator failed (exit ${code}): ${genErr()}\n${c.logs()}`);
    if (done === null) throw new Error('the load generator ended before its measured window');
    const r: FailoverLoadResult = result;
    if (r.connected === 0) throw new Error(`no bot could join: ${r.failureSamples.join('; ')}\n${c.logs()}`);
    return {
      scenario: o.scenario,
      clients: o.clients,
      repeat: o.repeat,
      connected: r.connected,
      connectFailures: r.connectFailures,
      ...(r.failureSamples.length === 0 ? {} : { failureSamples: r.failureSamples }),
      perScene: r.perScene,
      playersPerEngine: done.playersPerEngine,
      killed: done.killed,
      killAtSeconds: r.killAt === null ? 0 : round((r.killAt - r.windowStart) / 1000, 2),
      ...(done.killedScenes === undefined ? {} : { killedScenes: done.killedScenes, replacedMs: done.replacedMs ?? null }),
      ...(r.affected === undefined ? {} : { affected: r.affected }),
      ...(o.scenario === 'leader-kill' ? { newLeader: done.newLeader ?? null, newLeaderMs: done.newLeaderMs ?? null, statusReadMs: done.statusReadMs ?? 0 } : {}),
      unaffected: r.unaffected,
      unexpectedResumes: r.unexpectedResumes,
      loadGenCpuPercent: r.loadGenCpuPercent,
      loadGenSaturated: r.loadGenSaturated,
    };
  } finally {
    progress('stopping the cluster');
    if (gen !== null && gen.exitCode === null && gen.signalCode === null) killLeftovers([gen.pid!]);
    await cluster?.close();
    o.onAbortable?.(null);
  }
}

interface KillOutcome {
  readonly killed: string;
  readonly playersPerEngine: Record<string, number>;
  readonly killedScenes?: readonly string[];
  readonly replacedMs?: number | null;
  readonly newLeader?: string | null;
  readonly newLeaderMs?: number | null;
  readonly statusReadMs?: number;
}

function playersPerEngine(s: ClusterStatus): Record<string, number> {
  return Object.fromEntries(s.members.filter((m) => m.role === 'engine').map((m) => [m.id, m.load]));
}

/** SIGKILL the engine with the most players; then follow the status until its scenes are placed elsewhere. */
async function killEngine(c: BenchCluster, tell: (e: Record<string, unknown>) => void, progress: (what: string) => void, windowEnd: number): Promise<KillOutcome> {
  const before = await c.status();
  const engines = before.members.filter((m) => m.role === 'engine').sort((a, b) => b.load - a.load || a.id.localeCompare(b.id));
  const victim = engines[0];
  const member = victim === undefined ? undefined : c.member(victim.id);
  if (victim === undefined || member === undefined) throw new Error('no engine in the cluster status');
  const scenes = before.placements.filter((p) => p.engineId === victim.id).map((p) => p.sceneId);
  const at = nowMs();
  member.signal('SIGKILL');
  tell({ event: 'kill', at, scenes });
  progress(`killed ${victim.id} (${victim.load} players, scenes ${scenes.join(', ') || 'none'})`);
  // Diagnostic only: when the status shows the scenes on another engine.
  let replacedMs: number | null = null;
  while (scenes.length > 0 && nowMs() < windowEnd) {
    const s = await c.status().catch(() => null);
    if (s !== null && scenes.every((id) => s.placements.some((p) => p.sceneId === id && p.engineId !== victim.id))) {
      replacedMs = round(nowMs() - at, 0);
      break;
    }
    await sleep(100);
  }
  return { killed: victim.id, playersPerEngine: playersPerEngine(before), killedScenes: scenes, replacedMs };
}

/** SIGKILL the coordinator leader; poll the status until another one leads and tell the load generator. */
async function killLeader(c: BenchCluster, tell: (e: Record<string, unknown>) => void, progress: (what: string) => void, windowEnd: number): Promise<KillOutcome> {
  const before = await c.status();
  const leader = before.leader;
  const member = leader === null ? undefined : c.member(leader);
  if (leader === null || member === undefined) throw new Error(`no coordinator leader in the status (leader: ${String(leader)})`);
  const at = nowMs();
  member.signal('SIGKILL');
  tell({ event: 'kill', at, scenes: [] });
  progress(`killed the leader ${leader}`);
  let reads = 0;
  let readMs = 0;
  while (nowMs() < windowEnd) {
    const t0 = nowMs();
    const s = await c.status().catch(() => null);
    const t1 = nowMs();
    reads++;
    readMs += t1 - t0;
    if (s !== null && s.leader !== null && s.leader !== leader) {
      tell({ event: 'recovered', at: t1 });
      progress(`${s.leader} leads, ${Math.round(t1 - at)} ms after the kill`);
      return { killed: leader, playersPerEngine: playersPerEngine(before), newLeader: s.leader, newLeaderMs: round(t1 - at, 0), statusReadMs: round(readMs / reads, 1) };
    }
    await sleep(50);
  }
  return { killed: leader, playersPerEngine: playersPerEngine(before), newLeader: null, newLeaderMs: null, statusReadMs: reads === 0 ? 0 : round(readMs / reads, 1) };
}
