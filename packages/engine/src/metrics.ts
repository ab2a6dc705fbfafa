import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TickFigures } from './records.js';

/** Seconds: fine around the usual budgets (a 100 ms tick, a few ms for its parts). */
const TICK_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1, 0.25];

/** What the engine's gauges read at scrape time. */
export interface EngineSample {
  players(): number;
  scenes(): Iterable<{ readonly sceneId: string; readonly sceneType: string; readonly queuedBytes: number }>;
  /** Each gateway linked to the engine: its id and the bytes queued to it. */
  links(): Iterable<{ readonly gatewayId: string; readonly queuedBytes: number }>;
  /** Thread wake-ups between the main thread and the scenes since the engine started. */
  wakeups(): { readonly toScene: number; readonly fromScene: number };
  /** The persister's running totals (see Persister.stats). */
  persister(): { readonly written: number; readonly stale: number; readonly fenced: number; readonly pending: number };
  /** The player-log writer's running totals (see PlayerLogWriter.stats). */
  playerLogs(): { readonly written: number; readonly dropped: number; readonly queued: number };
}

/**
 * The engine's Prometheus metrics (names in docs/metrics.md), registered in the registry the
 * engine is given. Tick durations come from the scenes' STATS records (about once a second).
 */
export class EngineMetrics {
  readonly tickSeconds: Histogram<'scene_type'>;
  readonly replicationSeconds: Histogram<'scene_type'>;
  readonly tickOverruns: Counter<'scene_type'>;
  readonly batchRows: Histogram;
  readonly batchSeconds: Histogram;
  readonly batchFailures: Counter;

  constructor(registry: Registry, sample: EngineSample) {
    const registers = [registry];
    this.tickSeconds = new Histogram({
      name: 'gos_scene_tick_duration_seconds',
      help: "Time a scene's tick took (its inputs drained at the tick, onTick, and its entity replication), by scene type.",
      labelNames: ['scene_type'],
      buckets: TICK_BUCKETS,
      registers,
    });
    this.replicationSeconds = new Histogram({
      name: 'gos_scene_replication_duration_seconds',
      help: "Time a scene's entity replication took at the end of a tick (interest management and cell frames, docs/aoi.md), by scene type.",
      labelNames: ['scene_type'],
      buckets: TICK_BUCKETS,
      registers,
    });
    this.tickOverruns = new Counter({
      name: 'gos_scene_tick_overruns_total',
      help: 'Ticks that took longer than the scene’s tickMs, by scene type.',
      labelNames: ['scene_type'],
      registers,
    });
    this.batchRows = new Histogram({
      name: 'gos_persister_batch_rows',
      help: 'Rows written per persister batch (one store transaction).',
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'gos_persister_batch_duration_seconds',
      help: 'Time a persister batch took in the store.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.batchFailures = new Counter({ name: 'gos_persister_batch_failures_total', help: 'Persister batches the store failed (retried).', registers });
    // Running totals kept by the persister, turned into counter increments at each scrape.
    let seen = { written: 0, stale: 0, fenced: 0 };
    new Counter({
      name: 'gos_persister_writes_total',
      help: 'Rows the persister wrote, by result: ok, stale (version refused), fenced (another engine owns the row).',
      labelNames: ['result'],
      registers,
      collect() {
        const now = sample.persister();
        this.inc({ result: 'ok' }, now.written - seen.written);
        this.inc({ result: 'stale' }, now.stale - seen.stale);
        this.inc({ result: 'fenced' }, now.fenced - seen.fenced);
        seen = { written: now.written, stale: now.stale, fenced: now.fenced };
      },
    });
    let logs = { written: 0, dropped: 0 };
    new Counter({
      name: 'gos_player_log_events_total',
      help: 'Player-log events (docs/player-logs.md), by result: written to the store, dropped (the queue past its bound).',
      labelNames: ['result'],
      registers,
      collect() {
        const now = sample.playerLogs();
        this.inc({ result: 'written' }, now.written - logs.written);
        this.inc({ result: 'dropped' }, now.dropped - logs.dropped);
        logs = { written: now.written, dropped: now.dropped };
      },
    });
    new Gauge({
      name: 'gos_player_log_events_queued',
      help: 'Player-log events waiting to be written to the store.',
      registers,
      collect() {
        this.set(sample.playerLogs().queued);
      },
    });
    let woken = { toScene: 0, fromScene: 0 };
    new Counter({
      name: 'gos_engine_scene_wakeups_total',
      help: 'Times a sleeping thread was woken by the other side of a scene ring: the scene thread by records from the main thread (to_scene), the main thread by records from a scene (from_scene).',
      labelNames: ['direction'],
      registers,
      collect() {
        const now = sample.wakeups();
        this.inc({ direction: 'to_scene' }, now.toScene - woken.toScene);
        this.inc({ direction: 'from_scene' }, now.fromScene - woken.fromScene);
        woken = now;
      },
    });
    new Gauge({
      name: 'gos_persister_pending_rows',
      help: 'Rows waiting to be written.',
      registers,
      collect() {
        this.set(sample.persister().pending);
      },
    });
    new Gauge({
      name: 'gos_engine_players',
      help: 'Players in the engine’s scenes.',
      registers,
      collect() {
        this.set(sample.players());
      },
    });
    new Gauge({
      name: 'gos_engine_scenes',
      help: 'Scenes running on the engine, by scene type.',
      labelNames: ['scene_type'],
      registers,
      collect() {
        this.reset();
        const byType = new Map<string, number>();
        for (const scene of sample.scenes()) byType.set(scene.sceneType, (byType.get(scene.sceneType) ?? 0) + 1);
        for (const [sceneType, n] of byType) this.set({ scene_type: sceneType }, n);
      },
    });
    new Gauge({
      name: 'gos_engine_ring_queued_bytes',
      help: 'Bytes of records waiting for each scene in its inbound ring and the ring’s overflow.',
      labelNames: ['scene'],
      registers,
      collect() {
        this.reset();
        for (const scene of sample.scenes()) this.set({ scene: scene.sceneId }, scene.queuedBytes);
      },
    });
    new Gauge({
      name: 'gos_engine_link_queued_bytes',
      help: 'Bytes queued on each engine → gateway link (write batch and socket buffer).',
      labelNames: ['gateway'],
      registers,
      collect() {
        this.reset();
        for (const link of sample.links()) this.set({ gateway: link.gatewayId }, link.queuedBytes);
      },
    });
  }

  /** A persister batch: its rows and duration; a failed one counts as a failure. */
  batch(rows: number, seconds: number, failed: boolean): void {
    if (failed) this.batchFailures.inc();
    else {
      this.batchRows.observe(rows);
      this.batchSeconds.observe(seconds);
    }
  }

  /** A scene's STATS record: its tick durations (ms) and overruns since the last one. */
  ticks(sceneType: string, figures: TickFigures, overruns: number): void {
    const histogram = this.tickSeconds.labels({ scene_type: sceneType });
    for (const ms of figures.ticks) histogram.observe(ms / 1000);
    if (figures.replication !== null) {
      const replication = this.replicationSeconds.labels({ scene_type: sceneType });
      for (const ms of figures.replication) replication.observe(ms / 1000);
    }
    if (overruns > 0) this.tickOverruns.inc({ scene_type: sceneType }, overruns);
  }
}
