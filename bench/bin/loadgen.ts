/**
 * The load generator process: one JSON argument, progress as JSON lines on stdout, the result
 * as the last line. Started by the orchestrator (bin/bench.ts), pinned to its own core.
 *
 *   node bench/dist/bin/loadgen.js '{"target":"uws","baseUrl":"http://127.0.0.1:3901","clients":100,"warmupSeconds":2,"steadySeconds":5}'
 */
import { AOI_LAYOUTS } from '../src/targets/project/aoi-map.js';
import { parseCommandLine } from '@gos/cluster';
import { DRIVERS, isTarget } from '../src/loadgen/drivers/index.js';
import { runFailoverLoad } from '../src/loadgen/failover.js';
import { runHostile } from '../src/loadgen/hostile.js';
import { runLoginStorm } from '../src/loadgen/logins.js';
import { runLoad } from '../src/loadgen/run.js';
import { SOAK_CHURN, type Churn } from '../src/soak.js';

interface Args {
  target: string;
  baseUrl: string;
  clients: number;
  warmupSeconds: number;
  steadySeconds: number;
  connectPerSecond?: number;
  /** mmo-move (default), idle-ccu, chat-fanout, login-storm, reconnect-storm, mmo-aoi, soak, engine-kill or leader-kill. */
  scenario?: string;
  /** engine-kill and leader-kill: each scene's gateway (HTTP origin), instead of target and baseUrl. */
  gatewayUrls?: string[];
  /** soak: drops and resumes (default SOAK_CHURN; fraction 0: none). */
  churn?: Churn;
  /** mmo-aoi: where the walkers go (mixed, uniform or crowd; default mixed). */
  layout?: string;
  /** soak, project targets: hostile sockets beside the players (src/loadgen/hostile.ts); printed as {"hostile":…} before the result. */
  hostile?: { sockets: number; framesPerSecond: number };
}

const USAGE = `usage: node bench/dist/bin/loadgen.js '<JSON>'
The load generator the bench starts (npm run bench); one JSON argument:
  {"target","baseUrl","clients","warmupSeconds","steadySeconds","connectPerSecond"?,"scenario"?,"gatewayUrls"?,"churn"?,"layout"?,"hostile"?}
Prints progress as JSON lines; the last line is {"result":…}.`;

const cli = parseCommandLine({ name: 'loadgen', usage: USAGE }, { allowPositionals: true });
// Annotated, so that the compiler knows a call does not return.
const bad: (why: string) => never = cli.fail;
if (cli.positionals.length !== 1) bad('expects one JSON argument');
const args = ((): Partial<Args> => {
  try {
    const parsed: unknown = JSON.parse(cli.positionals[0]!);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // reported below
  }
  return bad('the argument is not a JSON object');
})();
const failover = args.scenario === 'engine-kill' || args.scenario === 'leader-kill';
if (failover) {
  if (!Array.isArray(args.gatewayUrls) || args.gatewayUrls.length === 0) bad('gatewayUrls is required');
} else {
  if (typeof args.target !== 'string' || !isTarget(args.target)) bad(`unknown target ${String(args.target)}`);
  if (typeof args.baseUrl !== 'string') bad('baseUrl is required');
}
for (const k of ['clients', 'warmupSeconds', 'steadySeconds'] as const) {
  if (!Number.isFinite(args[k]) || args[k]! < 0) bad(`${k} must be a number ≥ 0`);
}

const hostile = args.hostile;
if (hostile !== undefined && (args.scenario !== 'soak' || !(hostile.sockets >= 1) || !(hostile.framesPerSecond > 0 && hostile.framesPerSecond <= 50))) {
  bad('hostile is for soak only, with sockets ≥ 1 and framesPerSecond in (0, 50]');
}
// Hostile sockets play beside the players for the whole run (soak), on this process's core too.
const hostileRun = hostile === undefined ? null : runHostile({ baseUrl: args.baseUrl!, sockets: hostile.sockets, framesPerSecond: hostile.framesPerSecond, seconds: args.warmupSeconds! + args.steadySeconds! + Math.ceil(args.clients! / (args.connectPerSecond ?? 100)) + 2 });

const onPhase = (phase: string, info: Record<string, number>): void => console.log(JSON.stringify({ phase, ...info }));
const result = failover
  ? await runFailoverLoad({
      scenario: args.scenario as 'engine-kill' | 'leader-kill',
      gatewayUrls: args.gatewayUrls!,
      clients: args.clients!,
      warmupSeconds: args.warmupSeconds!,
      steadySeconds: args.steadySeconds!,
      ...(args.connectPerSecond === undefined ? {} : { connectPerSecond: args.connectPerSecond }),
      onPhase,
    })
  : args.scenario === 'login-storm'
    ? await runLoginStorm({ baseUrl: args.baseUrl!, rate: args.clients!, warmupSeconds: args.warmupSeconds!, steadySeconds: args.steadySeconds!, onPhase })
    : await runLoad({
        driver: DRIVERS[args.target as keyof typeof DRIVERS],
        baseUrl: args.baseUrl!,
        clients: args.clients!,
        warmupSeconds: args.warmupSeconds!,
        steadySeconds: args.steadySeconds!,
        ...(args.connectPerSecond === undefined ? {} : { connectPerSecond: args.connectPerSecond }),
        ...(args.scenario === 'idle-ccu' ? { inputHz: 0, room: 'idle' as const } : {}),
        ...(args.scenario === 'chat-fanout' ? { inputHz: 0, room: 'chat' as const, chatEveryMs: 500 } : {}),
        ...(args.scenario === 'reconnect-storm' ? { inputHz: 0, room: 'idle' as const, reconnectStorm: true } : {}),
        ...(args.scenario === 'mmo-aoi' ? { room: 'aoi' as const, layout: AOI_LAYOUTS.find((l) => l === args.layout) ?? 'mixed' } : {}),
        ...(args.scenario === 'soak' && (args.churn ?? SOAK_CHURN).fraction > 0 ? { churn: args.churn ?? SOAK_CHURN } : {}),
        onPhase,
      });
if (hostileRun !== null) console.log(JSON.stringify({ hostile: await hostileRun }));
console.log(JSON.stringify({ result }));
// Sockets are closing; do not wait for every close handshake.
setTimeout(() => process.exit(0), 200).unref();
