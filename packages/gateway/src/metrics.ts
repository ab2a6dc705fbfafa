import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Frame kinds as metric labels. */
export type FrameLabel = 'request' | 'ping' | 'response' | 'error' | 'push' | 'pong' | 'broadcast';

const KIND_LABELS: Readonly<Record<number, FrameLabel>> = { 1: 'request', 2: 'response', 3: 'error', 4: 'push', 5: 'ping', 6: 'pong' };

/** The label of a frame's kind byte (`request` … `pong`), or undefined for an unknown kind. */
export function frameLabel(kind: number): FrameLabel | undefined {
  return KIND_LABELS[kind];
}

/**
 * A counter's collect(): add what `counts` gained since the last scrape, under the label of
 * each index (indexes without a label are not reported).
 */
function deltas<L extends string>(counts: Float64Array, labelName: L, label: (index: number) => string | undefined): (this: Counter<L>) => void {
  const reported = new Float64Array(counts.length);
  return function collect(this: Counter<L>): void {
    for (let i = 0; i < counts.length; i++) {
      const value = label(i);
      if (value === undefined) continue;
      this.inc({ [labelName]: value } as Partial<Record<L, string>>, counts[i]! - reported[i]!);
      reported[i] = counts[i]!;
    }
  };
}

/** What the gateway's gauges read at scrape time. */
export interface GatewaySample {
  connections(): number;
  /** Each engine link: its engine and the bytes queued to it (batch + socket). */
  links(): Iterable<{ readonly engineId: string; readonly queuedBytes: number; readonly up: boolean }>;
}

/**
 * The gateway's Prometheus metrics (names in docs/metrics.md), registered in the registry the
 * gateway is given. Gauges are read when scraped; counters and the histogram are updated on
 * the paths they count.
 */
export class GatewayMetrics {
  /**
   * Frames by kind byte, counted on the per-frame paths with a plain increment (a prom-client
   * label lookup per frame costs more than the frame's own handling) and handed to the
   * counters when scraped. Index 0 of `framesOut` counts broadcasts (topic publishes).
   */
  readonly framesIn = new Float64Array(8);
  readonly framesOut = new Float64Array(8);
  /** Client frames handed to engines: [0] over TCP links, [1] over in-process links. */
  readonly forwarded = new Float64Array(2);
  readonly errors: Counter<'code'>;
  readonly closes: Counter<'code'>;
  readonly requestSeconds: Histogram<'route'>;
  readonly placementSeconds: Histogram<'result'>;
  readonly travelSeconds: Histogram<'scope' | 'result'>;

  constructor(registry: Registry, sample: GatewaySample) {
    const registers = [registry];
    const framesIn = this.framesIn;
    const framesOut = this.framesOut;
    new Counter({
      name: 'gos_gateway_frames_in_total',
      help: 'Client frames received, by kind.',
      labelNames: ['kind'],
      registers,
      collect: deltas(framesIn, 'kind', (kind) => frameLabel(kind)),
    });
    new Counter({
      name: 'gos_gateway_frames_out_total',
      help: 'Frames sent to clients, by kind (broadcast: one per published topic message).',
      labelNames: ['kind'],
      registers,
      collect: deltas(framesOut, 'kind', (kind) => (kind === 0 ? 'broadcast' : frameLabel(kind))),
    });
    new Counter({
      name: 'gos_gateway_frames_forwarded_total',
      help: 'Client frames forwarded to engines, by link transport: tcp (another process) or in-process (the engine of this process).',
      labelNames: ['transport'],
      registers,
      collect: deltas(this.forwarded, 'transport', (i) => (i === 0 ? 'tcp' : 'in-process')),
    });
    this.errors = new Counter({ name: 'gos_gateway_errors_total', help: 'ERROR frames sent to clients, by error code.', labelNames: ['code'], registers });
    this.closes = new Counter({ name: 'gos_gateway_closes_total', help: 'Client sockets closed by the gateway, by close code.', labelNames: ['code'], registers });
    this.requestSeconds = new Histogram({
      name: 'gos_gateway_request_duration_seconds',
      help: 'Time from a client request reaching the gateway to its answer leaving it, by route.',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.placementSeconds = new Histogram({
      name: 'gos_gateway_placement_wait_seconds',
      help: 'Time a player waited for its scene to be placed (scenes placed nowhere only), by result: placed or an error code.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.travelSeconds = new Histogram({
      name: 'gos_gateway_travel_seconds',
      help: 'Scene travels, from the scene asking to the player being in the target scene (or the travel failing), by scope (same-engine, cross-engine) and result (ok or an error code).',
      labelNames: ['scope', 'result'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    new Gauge({
      name: 'gos_gateway_connections',
      help: 'Client sockets open.',
      registers,
      collect() {
        this.set(sample.connections());
      },
    });
    new Gauge({
      name: 'gos_gateway_link_queued_bytes',
      help: 'Bytes queued on each gateway → engine link (write batch and socket buffer).',
      labelNames: ['engine'],
      registers,
      collect() {
        this.reset();
        for (const link of sample.links()) this.set({ engine: link.engineId }, link.queuedBytes);
      },
    });
    new Gauge({
      name: 'gos_gateway_link_up',
      help: 'Whether each gateway → engine link is up (1) or down (0).',
      labelNames: ['engine'],
      registers,
      collect() {
        this.reset();
        for (const link of sample.links()) this.set({ engine: link.engineId }, link.up ? 1 : 0);
      },
    });
  }
}
