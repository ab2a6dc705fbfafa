/**
 * The load generator of the failover scenarios (engine-kill, leader-kill): bots that log in as
 * guests on the gateway of their scene, play over a real WebSocket (a move 10 times a second,
 * `NO_REPLY`, acknowledged by the scene's ticks) and keep what is needed to judge a failover:
 *
 * - every input's send time and outcome (acknowledged after how long, never acknowledged, or
 *   dropped while its scene was resuming), so latency and losses can be cut into the windows
 *   before, during and after the failover once its times are known (failover-ledger.ts);
 * - per bot, the position sent with each seq, the highest seq acknowledged, and for a bot whose
 *   engine was killed: when `SceneResumed` arrived, the position the new engine loaded (its
 *   `Welcome`), and when the first move after it was acknowledged (failover-bot.ts, summed up
 *   in failover-affected.ts).
 *
 * The orchestrator tells it on stdin (JSON lines) when it killed something and which scenes
 * were on it (`{"event":"kill","at":…,"scenes":[…]}`), and for leader-kill when the new leader
 * was seen (`{"event":"recovered","at":…}`). Times are wall-clock ms ({@link nowMs}): the same
 * clock in every process of the machine.
 */
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ByteBuffer } from 'flatbuffers';
import WebSocket from 'ws';
import { CORE_PUSH, encodeFrame, FRAME_HEADER_BYTES, FrameFlag, FrameKind, WS_QUERY_TOKEN, WS_QUERY_VERSION } from '@gos/schema';
import { nowMs } from './driver.js';
import { affectedResult, type AffectedResult } from './failover-affected.js';
import { firstPosition, lostMoves, newBot, recordPosition, type Bot } from './failover-bot.js';
import { InputLedger, type WindowStats } from './failover-ledger.js';
import { Tick, Welcome } from '../generated/fbs/bench_mmo_generated.js';
import { protocol, PUSH, ROUTE } from '../generated/protocol.js';
import { round } from '../stats.js';

export type { AffectedResult } from './failover-affected.js';
export type { WindowStats } from './failover-ledger.js';

export type FailoverScenario = 'engine-kill' | 'leader-kill';

export interface FailoverLoadOptions {
  readonly scenario: FailoverScenario;
  /** HTTP origin of each scene's gateway: bot i logs in on `gatewayUrls[i % length]`, whose logins enter its scene. */
  readonly gatewayUrls: readonly string[];
  readonly clients: number;
  readonly warmupSeconds: number;
  /** The measured window, from its start; the kill comes during it. */
  readonly steadySeconds: number;
  /** Logins + connections per second during the ramp. @default 100 */
  readonly connectPerSecond?: number;
  /** Moves per second per bot. @default 10 */
  readonly inputHz?: number;
  readonly onPhase?: (phase: 'ramp' | 'warmup' | 'steady' | 'done', info: Record<string, number>) => void;
}

export interface KillEvent {
  readonly at: number;
  /** Scenes hosted by the killed engine (engine-kill); empty for leader-kill. */
  readonly scenes: readonly string[];
}

export interface FailoverWindows {
  readonly before: WindowStats;
  readonly during: WindowStats;
  readonly after: WindowStats;
}

export interface FailoverLoadResult {
  readonly clients: number;
  readonly connected: number;
  readonly connectFailures: number;
  readonly failureSamples: readonly string[];
  /** Bots per scene, in scene (gateway) order. */
  readonly perScene: readonly number[];
  readonly killAt: number | null;
  readonly recoveredAt: number | null;
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Players not on the killed engine (leader-kill: every player). */
  readonly unaffected: FailoverWindows;
  readonly affected?: AffectedResult;
  /** SceneResumed pushes, or joins again (a second Welcome), to bots whose scene was not reported killed. */
  readonly unexpectedResumes: number;
  readonly loadGenCpuPercent: number;
  readonly loadGenLoopDelayP99Ms: number;
  readonly loadGenSaturated: boolean;
}

/** After the kill, ticks still in flight from the dead engine may land for this long; later ones come from the new engine. */
const KILL_GRACE_MS = 500;
const PING_INTERVAL_MS = 10_000;
const PING_FRAME = encodeFrame(FrameKind.PING, 0, 0, null);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runFailoverLoad(o: FailoverLoadOptions): Promise<FailoverLoadResult> {
  const hz = o.inputHz ?? 10;
  const scenes = o.gatewayUrls.length;
  const bots: Bot[] = [];
  const failureSamples: string[] = [];
  let connectFailures = 0;
  let stopping = false;
  let kill: KillEvent | null = null;
  let recoveredAt: number | null = null;
  let unexpectedResumes = 0;
  const affectedScenes = new Set<number>();
  const ledger = new InputLedger();
  const note = (what: string): void => {
    if (failureSamples.length < 5) failureSamples.push(what);
  };

  createInterface({ input: process.stdin }).on('line', (line) => {
    let ev: { event?: string; at?: number; scenes?: string[] };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return;
    }
    if (ev.event === 'kill' && typeof ev.at === 'number') {
      kill = { at: ev.at, scenes: ev.scenes ?? [] };
      for (const s of kill.scenes) {
        const k = sceneIndex(s);
        if (k !== null && k < scenes) affectedScenes.add(k);
      }
      for (const b of bots) if (affectedScenes.has(b.scene)) b.affected = true;
    } else if (ev.event === 'recovered' && typeof ev.at === 'number') {
      recoveredAt = ev.at;
    }
  });

  const tick = new Tick();
  const onMessage = (b: Bot, data: Buffer, resolveJoin: () => void): void => {
    const kind = data[0];
    if (kind === FrameKind.PONG) return;
    const opcode = data.byteLength >= FRAME_HEADER_BYTES ? data.readUInt16LE(2) : -1;
    const now = nowMs();
    if (kind === FrameKind.ERROR) {
      ledger.errored(now, b.index);
      return;
    }
    if (kind !== FrameKind.PUSH) return;
    if (opcode === PUSH.Tick) {
      if (b.id === -1) return;
      // A tick from the new engine before this bot's new Welcome numbers other players: not ours to read.
      if (b.affected && b.welcomes === 1 && kill !== null && now > kill.at + KILL_GRACE_MS) return;
      // Read in place: the vectors need not be 4-byte aligned in the frame, so no typed-array views.
      const t = Tick.getRootAsTick(new ByteBuffer(data.subarray(FRAME_HEADER_BYTES)), tick);
      let i = 0;
      const n = t.idsLength();
      while (i < n && t.ids(i) !== b.id) i++;
      if (i === n) return;
      const ack = t.acks(i) ?? 0;
      if (ack > b.ackedSeq) b.ackedSeq = ack;
      if (ack > 0 && b.resumedAt !== null && b.rejoinedAt !== null && b.firstAckAt === null) b.firstAckAt = now;
      const p = b.pending;
      while (b.head < p.length) {
        const k = p[b.head]!;
        if (ledger.seqOf(k) > ack) break;
        ledger.acked(k, now);
        b.head++;
      }
      if (b.head > 256) {
        p.splice(0, b.head);
        b.head = 0;
      }
    } else if (opcode === PUSH.Welcome) {
      const w = Welcome.getRootAsWelcome(new ByteBuffer(data.subarray(FRAME_HEADER_BYTES)));
      b.id = w.id();
      b.welcomes++;
      if (b.welcomes === 1) {
        // Seq 0: where the scene put the player.
        recordPosition(b, 0, w.x(), w.y());
        resolveJoin();
        return;
      }
      // Joined again: its scene resumed on another engine, from that engine's load of the last save.
      if (!b.affected) unexpectedResumes++;
      b.rejoinedAt = now;
      b.affected = true;
      b.lostMoves = lostMoves(b, Math.fround(w.x()), Math.fround(w.y()));
      // What was in flight or sent while resuming was never processed; acks restart from 0.
      for (let j = b.head; j < b.pending.length; j++) ledger.dropped(b.pending[j]!);
      b.pending.length = 0;
      b.head = 0;
      b.ackedSeq = 0;
    } else if (opcode === CORE_PUSH.SceneResumed) {
      if (b.resumedAt === null) b.resumedAt = now;
      if (!b.affected) unexpectedResumes++;
      b.affected = true;
    }
  };

  const connect = async (index: number): Promise<void> => {
    const scene = index % scenes;
    const b = newBot(index, scene);
    const base = o.gatewayUrls[scene]!;
    const res = await fetch(`${base}/v1/auth/guest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    if (res.status !== 200) throw new Error(`guest login: HTTP ${res.status} ${await res.text()}`);
    const login = (await res.json()) as { token: string; gateway: string };
    const url = `${login.gateway}?${WS_QUERY_TOKEN}=${encodeURIComponent(login.token)}&${WS_QUERY_VERSION}=${protocol.version}`;
    await new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.binaryType = 'nodebuffer';
      b.ws = ws;
      let joined = false;
      const onJoined = (): void => {
        joined = true;
        ({ x: b.x, y: b.y } = firstPosition(b));
        resolve();
      };
      ws.on('message', (data: Buffer) => onMessage(b, data, onJoined));
      ws.on('error', (err) => {
        if (!joined) reject(err);
      });
      const ping = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(PING_FRAME);
      }, PING_INTERVAL_MS);
      ping.unref();
      ws.on('close', (code, reason) => {
        clearInterval(ping);
        if (!joined) {
          reject(new Error(`closed before welcome: ${code} ${reason.toString()}`));
          return;
        }
        if (stopping) return;
        b.closedAt = nowMs();
        ledger.closed(b.closedAt, b.index);
        note(`bot ${index}: close ${code} ${reason.toString()}`.trim());
      });
    });
    if (kill !== null && affectedScenes.has(scene)) b.affected = true;
    bots.push(b);
  };

  const connectOne = async (index: number): Promise<void> => {
    try {
      await connect(index);
    } catch (err) {
      connectFailures++;
      note(`bot ${index}: connect: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  let sending = true;
  const sendMove = (b: Bot, now: number): void => {
    if (!sending || b.closedAt !== null || b.ws === null || b.welcomes === 0) return;
    const seq = ++b.seq;
    b.x = Math.min(1000, Math.max(0, b.x + (Math.random() - 0.5) * 10));
    b.y = Math.min(1000, Math.max(0, b.y + (Math.random() - 0.5) * 10));
    recordPosition(b, seq, b.x, b.y);
    try {
      b.ws.send(encodeFrame(FrameKind.REQUEST, ROUTE.move, 0, protocol.routes.move.request.encode({ seq, x: b.x, y: b.y }), FrameFlag.NO_REPLY));
    } catch {
      return; // closing: its close is counted
    }
    b.pending.push(ledger.sent(now, b.index, seq));
  };

  // The input clock: 20 buckets a period, each bot in one (its own phase).
  const buckets = 20;
  const bucketMs = 1000 / hz / buckets;
  const t0 = performance.now();
  let sentBuckets = 0;
  const clock = setInterval(() => {
    const due = Math.floor((performance.now() - t0) / bucketMs);
    if (due - sentBuckets > buckets) sentBuckets = due - buckets;
    const now = nowMs();
    while (sentBuckets < due) {
      const bucket = sentBuckets % buckets;
      for (const b of bots) if (b.index % buckets === bucket) sendMove(b, now);
      sentBuckets++;
    }
  }, bucketMs);

  // Ramp: the first bot of each scene alone, one after the other, so the scenes are placed one
  // at a time (placement spreads scenes it sees); then everyone else at the connect rate.
  o.onPhase?.('ramp', { secondsLeft: o.clients / (o.connectPerSecond ?? 100), connected: 0 });
  for (let i = 0; i < Math.min(scenes, o.clients); i++) {
    await connectOne(i);
    await sleep(500);
  }
  const rate = o.connectPerSecond ?? 100;
  const inFlight = new Set<Promise<void>>();
  const rampStart = performance.now();
  for (let i = scenes; i < o.clients; i++) {
    const wait = rampStart + ((i - scenes) * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= 32) await Promise.race(inFlight);
    const p = connectOne(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (i % 50 === 0) o.onPhase?.('ramp', { secondsLeft: (o.clients - i) / rate, connected: bots.length });
  }
  await Promise.all(inFlight);

  o.onPhase?.('warmup', { secondsLeft: o.warmupSeconds + o.steadySeconds, connected: bots.length });
  await sleep(o.warmupSeconds * 1000);

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const windowStart = nowMs();
  o.onPhase?.('steady', { secondsLeft: o.steadySeconds, connected: bots.length });
  const progress = setInterval(() => {
    const affected = bots.filter((b) => b.affected);
    o.onPhase?.('steady', {
      secondsLeft: Math.max(0, o.steadySeconds - (nowMs() - windowStart) / 1000),
      connected: bots.length - ledger.closes,
      affected: affected.length,
      resumed: affected.filter((b) => b.resumedAt !== null).length,
    });
  }, 1000);
  await sleep(o.steadySeconds * 1000);
  clearInterval(progress);
  // The window closes: no more inputs; those on their way get a second (ten ticks) to be acknowledged.
  sending = false;
  const windowEnd = nowMs();
  await sleep(1000);
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (nowMs() - windowStart) / 1000;
  loop.disable();
  o.onPhase?.('done', { secondsLeft: 0, connected: bots.length });
  stopping = true;
  clearInterval(clock);
  for (const b of bots) b.ws?.close();

  // The windows, now that the times are known.
  const killAt = (kill as KillEvent | null)?.at ?? null;
  const affectedBots = bots.filter((b) => b.affected);
  const resumedAts = affectedBots.filter((b) => b.resumedAt !== null && b.closedAt === null).map((b) => b.resumedAt!);
  const lastResume = resumedAts.length === 0 ? null : Math.max(...resumedAts);
  const recovered: number | null = o.scenario === 'leader-kill' ? recoveredAt : affectedBots.length === 0 ? killAt : lastResume;
  const mid = killAt ?? windowEnd;
  const end2 = Math.min(recovered ?? windowEnd, windowEnd);
  const isAffected = new Uint8Array(o.clients);
  for (const b of affectedBots) isAffected[b.index] = 1;
  const stats = (from: number, to: number, affected: boolean): WindowStats => ledger.window(from, to, isAffected, affected);
  const unaffected: FailoverWindows = {
    before: stats(windowStart, mid, false),
    during: stats(mid, end2, false),
    after: stats(end2, windowEnd, false),
  };

  const affected: AffectedResult | undefined =
    o.scenario === 'engine-kill' && killAt !== null ? affectedResult(affectedBots, killAt, lastResume, ledger.droppedBy(isAffected), stats(end2, windowEnd, true)) : undefined;

  const loadGenCpuPercent = (100 * (cpu.user + cpu.system)) / 1e6 / cpuSeconds;
  const loopP99 = loop.percentile(99) / 1e6;
  const perScene = Array.from({ length: scenes }, (_, k) => bots.filter((b) => b.scene === k).length);
  return {
    clients: o.clients,
    connected: bots.length,
    connectFailures,
    failureSamples,
    perScene,
    killAt,
    recoveredAt: recovered,
    windowStart,
    windowEnd,
    unaffected,
    ...(affected === undefined ? {} : { affected }),
    unexpectedResumes,
    loadGenCpuPercent: round(loadGenCpuPercent, 1),
    loadGenLoopDelayP99Ms: round(loopP99, 2),
    loadGenSaturated: loadGenCpuPercent >= 90 || loopP99 > 50,
  };
}

/** `mmo:3` → 2 (the scene of gateway 3); null for another id. */
function sceneIndex(sceneId: string): number | null {
  const m = /^mmo:(\d+)$/.exec(sceneId);
  return m === null ? null : Number(m[1]) - 1;
}
