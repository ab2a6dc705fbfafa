/**
 * The mmo-move load generator: connects N clients (ramp), has each send a move 10 times a
 * second at its own random phase, and measures input → ack latency (every 10th input), the
 * server's tick → receipt delay (every tick), messages and bytes both ways, and failures.
 * Phases: ramp (connect), warm-up, steady window (the only one measured), then it stops.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { nowMs, type ClientConn, type Driver, type TickInfo } from './driver.js';
import { LatencyRecorder, PendingInputs, round } from '../stats.js';
import { AOI_MAP, AOI_SPEED, type AoiLayout } from '../targets/project/aoi-map.js';
import { crowdSpot, walk, waypoint } from './aoi-walk.js';
import { reconnectAll } from './reconnect-storm.js';

export interface LoadOptions {
  readonly driver: Driver;
  readonly baseUrl: string;
  readonly clients: number;
  /** Connections opened per second during the ramp. @default 500 */
  readonly connectPerSecond?: number;
  /** Connections being opened at once, at most. @default 64 */
  readonly connectConcurrency?: number;
  readonly warmupSeconds: number;
  readonly steadySeconds: number;
  /** Moves per second per client; 0 sends none (idle-ccu). @default 10 */
  readonly inputHz?: number;
  /** The game the clients join. @default 'mmo' */
  readonly room?: 'mmo' | 'idle' | 'chat' | 'aoi';
  /**
   * mmo-aoi: where the walkers go. `mixed` (default): anywhere, one waypoint in five near a point
   * of interest (crowds form); `uniform`: anywhere (uniform density); `crowd`: every client
   * inside one cell at the map's centre.
   */
  readonly layout?: AoiLayout;
  /** chat-fanout: during the window, the first client says a line this often; latency is line → each receipt. */
  readonly chatEveryMs?: number;
  /** Every how many inputs a latency sample is taken. @default 10 */
  readonly sampleEvery?: number;
  /** One client in this many decodes ticks and gives latency samples (10 per scene of 100). @default 10 */
  readonly decodeEvery?: number;
  /**
   * reconnect-storm: when the window starts, every client drops its connection and reconnects
   * at once (see {@link ClientConn.reconnect}); the window ends when the last one is back, or
   * after `steadySeconds` (those still out count as failures). `latency` is then drop → back
   * in the scene, per client.
   */
  readonly reconnectStorm?: boolean;
  /**
   * soak: every `everySeconds` of the window, this `fraction` of the connected clients (at
   * least one) drop their connection without a closing handshake and resume their session on a
   * new one ({@link ClientConn.reconnect}), so that what a server keeps per closed socket shows.
   */
  readonly churn?: { readonly everySeconds: number; readonly fraction: number };
  /** Give up connecting after this long. @default 120 */
  readonly rampTimeoutSeconds?: number;
  readonly onPhase?: (phase: Phase, info: { secondsLeft: number; connected: number }) => void;
}

export type Phase = 'ramp' | 'warmup' | 'steady' | 'done';

export interface LoadResult {
  readonly clients: number;
  readonly connected: number;
  readonly connectFailures: number;
  readonly disconnects: number;
  /** ERROR frames received (ramp, warm-up and window). */
  readonly errorFrames: number;
  /** The first few failures, for the report: `connect: <error>` or `close <code> <reason>`. */
  readonly failureSamples: readonly string[];
  readonly steadySeconds: number;
  readonly latency: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
  readonly serverDelay: { count: number; p50Ms: number; p99Ms: number; maxMs: number };
  readonly inPerSec: number;
  readonly inBytesPerSec: number;
  readonly outPerSec: number;
  readonly outBytesPerSec: number;
  /** Ticks per client per second received in the window (10 when nothing is lost or late). */
  readonly ticksPerClientPerSec: number;
  /** Latency samples dropped because the server stopped acking a client. */
  readonly unackedSamples: number;
  /** The load generator's own CPU use in the window, percent of one core. */
  readonly loadGenCpuPercent: number;
  readonly loadGenLoopDelayP99Ms: number;
  /** True when the generator's numbers cannot be trusted: its core was ≥ 90% busy or its loop lagged. */
  readonly loadGenSaturated: boolean;
  /** reconnect-storm only. */
  readonly storm?: StormResult;
  /** mmo-aoi: entities each decoding client knew at the end of the window, on average. */
  readonly entitiesPerClient?: number;
  /** With `churn`: drops and resumes done in the window, and those that failed (counted in `disconnects` too). */
  readonly churn?: { readonly reconnects: number; readonly failures: number };
}

export interface StormResult {
  /** Clients that dropped their connection (every client connected at the end of the ramp). */
  readonly dropped: number;
  /** Of those, back in their scene or room before the deadline. */
  readonly reconnected: number;
  /** First drop → last client back (or the deadline), seconds. */
  readonly seconds: number;
}

interface Client {
  readonly index: number;
  conn: ClientConn | null;
  seq: number;
  x: number;
  y: number;
  /** mmo-aoi: where it walks to. */
  wx: number;
  wy: number;
  /** mmo-aoi: where it walks (LoadOptions.layout). */
  readonly layout: AoiLayout;
  readonly pending: PendingInputs;
  closed: boolean;
  /** Dropped on purpose and resuming (churn): sends nothing until it is back. */
  resuming: boolean;
  readonly decodeTicks: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const hz = o.inputHz ?? 10;
  const periodMs = 1000 / hz;
  const sampleEvery = o.sampleEvery ?? 10;
  const decodeEvery = o.decodeEvery ?? 10;
  const buckets = 20;
  const bucketMs = periodMs / buckets;
  const latency = new LatencyRecorder();
  const delay = new LatencyRecorder();
  let measuring = false;
  let inMsgs = 0;
  let inBytes = 0;
  let outMsgs = 0;
  let outBytes = 0;
  let ticks = 0;
  let disconnects = 0;
  let connectFailures = 0;
  /** Coded errors the server answered with, ramp included. */
  let errorFrames = 0;
  let stopping = false;
  const failureSamples: string[] = [];
  const noteFailure = (what: string): void => {
    if (failureSamples.length < 5) failureSamples.push(what);
  };

  const aoi = o.room === 'aoi';
  const clients: Client[] = [];
  const byBucket: Client[][] = Array.from({ length: buckets }, () => []);

  const onTick = (c: Client, t: TickInfo | null, bytes: number): void => {
    if (measuring) {
      outMsgs++;
      outBytes += bytes;
      ticks++;
    }
    if (t === null) return;
    if (!measuring) {
      c.pending.ack(t.ack, noop);
      return;
    }
    const now = nowMs();
    if (Number.isFinite(t.serverTimeMs)) delay.record(now - t.serverTimeMs);
    c.pending.ack(t.ack, (sentAt) => latency.record(now - sentAt));
  };

  const connectOne = async (index: number): Promise<void> => {
    const decodeTicks = index % decodeEvery === 0;
    const size = aoi ? AOI_MAP : 1000;
    const c: Client = { index, conn: null, seq: 0, x: Math.random() * size, y: Math.random() * size, wx: 0, wy: 0, pending: new PendingInputs(), closed: false, resuming: false, decodeTicks, layout: o.layout ?? 'mixed' };
    if (aoi) {
      if (c.layout === 'crowd') [c.x, c.y] = crowdSpot();
      waypoint(c);
    }
    try {
      c.conn = await o.driver.connect(index, o.baseUrl, {
        onTick: (t, bytes) => onTick(c, t, bytes),
        onChat: (sentAt, bytes) => {
          if (!measuring) return;
          outMsgs++;
          outBytes += bytes;
          latency.record(nowMs() - sentAt);
        },
        onOther: (bytes) => {
          if (!measuring) return;
          outMsgs++;
          outBytes += bytes;
        },
        onError: (code, bytes) => {
          errorFrames++;
          noteFailure(`client ${index}: error ${code}`);
          if (!measuring) return;
          outMsgs++;
          outBytes += bytes;
        },
        onClose: (code, reason) => {
          if (c.closed || stopping) return;
          c.closed = true;
          disconnects++;
          noteFailure(`client ${index}: close ${code} ${reason}`.trim());
        },
      }, { decodeTicks, room: o.room ?? 'mmo' });
    } catch (err) {
      connectFailures++;
      noteFailure(`client ${index}: connect: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    clients.push(c);
    byBucket[Math.floor(Math.random() * buckets)]!.push(c);
  };

  const sendBucket = (bucket: Client[]): void => {
    const now = nowMs();
    for (const c of bucket) {
      if (c.closed || c.resuming || c.conn === null) continue;
      const seq = ++c.seq;
      if (aoi) {
        walk(c, AOI_SPEED / hz);
      } else {
        // A small random walk, kept in the 0–1000 square.
        c.x = Math.min(1000, Math.max(0, c.x + (Math.random() - 0.5) * 10));
        c.y = Math.min(1000, Math.max(0, c.y + (Math.random() - 0.5) * 10));
      }
      let bytes: number;
      try {
        bytes = c.conn.sendMove(seq, c.x, c.y);
      } catch {
        continue; // the socket is closing: onClose counts it
      }
      if (c.decodeTicks && seq % sampleEvery === 0) c.pending.push(seq, now);
      if (measuring) {
        inMsgs++;
        inBytes += bytes;
      }
    }
  };

  // The input clock: every bucketMs one bucket of clients sends; a late timer catches up.
  const t0 = performance.now();
  let sentBuckets = 0;
  const clock = hz === 0 ? undefined : setInterval(() => {
    const due = Math.floor((performance.now() - t0) / bucketMs);
    // Never replay more than one period after a stall: a frozen generator must not burst.
    if (due - sentBuckets > buckets) sentBuckets = due - buckets;
    while (sentBuckets < due) {
      sendBucket(byBucket[sentBuckets % buckets]!);
      sentBuckets++;
    }
  }, bucketMs);

  // Ramp: open connections at the given rate, a bounded number at once.
  const rate = o.connectPerSecond ?? 500;
  const concurrency = o.connectConcurrency ?? 64;
  const rampDeadline = performance.now() + (o.rampTimeoutSeconds ?? 120) * 1000;
  const inFlight = new Set<Promise<void>>();
  const rampStart = performance.now();
  for (let i = 0; i < o.clients; i++) {
    if (performance.now() > rampDeadline) {
      connectFailures += o.clients - i;
      break;
    }
    const wait = rampStart + (i * 1000) / rate - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const p = connectOne(i).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (i % 100 === 0) o.onPhase?.('ramp', { secondsLeft: Math.max(0, (o.clients - i) / rate), connected: clients.length });
  }
  await Promise.all(inFlight);

  o.onPhase?.('warmup', { secondsLeft: o.warmupSeconds + o.steadySeconds, connected: clients.length });
  await sleep(o.warmupSeconds * 1000);

  // Steady window.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const disconnectsBefore = disconnects;
  latency.reset();
  delay.reset();
  measuring = true;
  loop.enable();
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  o.onPhase?.('steady', { secondsLeft: o.steadySeconds, connected: clients.length });
  const storm = o.reconnectStorm === true ? await reconnectAll(clients, o.steadySeconds, latency, noteFailure, o.onPhase) : undefined;
  let lines = 0;
  const speaker = clients[0];
  const chatClock =
    o.chatEveryMs === undefined || speaker === undefined
      ? undefined
      : setInterval(() => {
          if (speaker.closed || speaker.conn === null) return;
          try {
            const bytes = speaker.conn.sendChat(nowMs(), `line ${++lines}`);
            inMsgs++;
            inBytes += bytes;
          } catch {
            // closing: onClose counts it
          }
        }, o.chatEveryMs);
  const churn = { reconnects: 0, failures: 0 };
  const churning = new Set<Promise<void>>();
  const churnClock =
    o.churn === undefined
      ? undefined
      : setInterval(() => {
          const live = clients.filter((c) => !c.closed && !c.resuming && c.conn !== null);
          const count = Math.min(live.length, Math.max(1, Math.round(live.length * o.churn!.fraction)));
          for (let k = 0; k < count; k++) {
            // A partial Fisher–Yates shuffle: `count` distinct clients.
            const j = k + Math.floor(Math.random() * (live.length - k));
            [live[k], live[j]] = [live[j]!, live[k]!];
            const c = live[k]!;
            c.resuming = true;
            const p = c.conn!.reconnect().then(
              () => {
                c.resuming = false;
                churn.reconnects++;
              },
              (err: unknown) => {
                c.closed = true;
                churn.failures++;
                disconnects++;
                noteFailure(`client ${c.index}: resume: ${err instanceof Error ? err.message : String(err)}`);
              },
            );
            churning.add(p);
            void p.finally(() => churning.delete(p));
          }
        }, o.churn.everySeconds * 1000);
  for (let left = storm === undefined ? o.steadySeconds : 0; left > 0; left -= Math.min(left, 5)) {
    await sleep(Math.min(left, 5) * 1000);
    if (left - 5 > 0) o.onPhase?.('steady', { secondsLeft: left - 5, connected: clients.length - (disconnects - disconnectsBefore) });
  }
  clearInterval(chatClock);
  clearInterval(churnClock);
  // Resumes under way finish (or fail) inside the books.
  await Promise.all(churning);
  // Lines still on their way at the window's end are let in before the books close.
  if (chatClock !== undefined) await sleep(500);
  measuring = false;
  const windowSeconds = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();

  // Report the end of the window first: the orchestrator samples the servers' CPU on it.
  o.onPhase?.('done', { secondsLeft: 0, connected: clients.length });
  stopping = true;
  clearInterval(clock);
  const unacked = clients.reduce((n, c) => n + c.pending.dropped, 0);
  const counting = clients.filter((c) => c.decodeTicks && !c.closed && c.conn?.entities !== undefined);
  const entitiesPerClient = counting.length === 0 ? undefined : round(counting.reduce((n, c) => n + c.conn!.entities!(), 0) / counting.length, 1);
  for (const c of clients) {
    c.closed = true;
    c.conn?.close();
  }

  const loadGenCpuPercent = (100 * (cpu.user + cpu.system)) / 1e6 / windowSeconds;
  const loopP99 = loop.percentile(99) / 1e6;
  return {
    clients: o.clients,
    connected: clients.length,
    connectFailures,
    errorFrames,
    // A client that did not come back from the storm is a failure like a disconnect.
    disconnects: disconnects + (storm === undefined ? 0 : storm.dropped - storm.reconnected),
    failureSamples,
    steadySeconds: round(windowSeconds, 2),
    latency: latency.summary(),
    serverDelay: delay.summary(),
    inPerSec: round(inMsgs / windowSeconds, 1),
    inBytesPerSec: round(inBytes / windowSeconds, 0),
    outPerSec: round(outMsgs / windowSeconds, 1),
    outBytesPerSec: round(outBytes / windowSeconds, 0),
    ticksPerClientPerSec: clients.length === 0 ? 0 : round(ticks / windowSeconds / clients.length, 2),
    unackedSamples: unacked,
    loadGenCpuPercent: round(loadGenCpuPercent, 1),
    loadGenLoopDelayP99Ms: round(loopP99, 2),
    loadGenSaturated: loadGenCpuPercent >= 90 || loopP99 > 50,
    ...(storm === undefined ? {} : { storm }),
    ...(o.churn === undefined ? {} : { churn }),
    ...(entitiesPerClient === undefined ? {} : { entitiesPerClient }),
  };
}

function noop(): void {}
