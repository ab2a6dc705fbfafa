/**
 * Scenario aoi-tick (bench/README.md): the entity replication of one scene alone, in this
 * process, without sockets or a worker: the work a scene thread does at the end of each tick
 * for N moving entities and V viewers on the mmo-aoi map (@gos/engine's SceneReplication). Every
 * entity takes a random step each tick (the game's part, timed apart), then the replication
 * places them in cells and writes the cell frames and views (what is timed as replication).
 * The records it would hand to the main thread are counted, not sent.
 */
import { SceneReplication, resolveInterest, type Entity } from '@gos/engine';
import { silentLogger } from '@gos/schema';
import { ENTITIES } from './generated/protocol.js';
import type { Machine } from './report/results.js';
import { round } from './stats.js';
import { AOI_CELL, AOI_HYSTERESIS, AOI_MAP, AOI_VIEW } from './targets/project/aoi-map.js';

export interface AoiTickRow {
  /** Moving entities, viewers included. */
  readonly entities: number;
  /** Entities that are a player's viewpoint (each hears the cells around it). */
  readonly viewers: number;
  readonly ticks: number;
  /** The replication at the end of a tick (interest management and cell frames). */
  readonly replicationP50Ms: number;
  readonly replicationP99Ms: number;
  readonly replicationMeanMs: number;
  /** Setting every entity's new position (the game's part of the tick, through `entity.set`). */
  readonly moveP50Ms: number;
  /** Bytes of cell frames and views written a tick (before fan-out). */
  readonly bytesPerTick: number;
  readonly recordsPerTick: number;
}

export interface AoiTickResultsFile {
  readonly scenario: 'aoi-tick';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: { readonly command: string; readonly warmupTicks: number; readonly map: number; readonly cellSize: number; readonly hysteresis?: number; readonly viewRadius: number; readonly step: number };
  readonly runs: AoiTickRow[];
}

/** Units an entity may move each tick on each axis (± half of it). */
const STEP = 20;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

/** One run: `npcs` wandering entities and `viewers` players' viewpoints, `ticks` measured after `warmupTicks`. */
export function runAoiTick(o: { readonly npcs: number; readonly viewers: number; readonly ticks: number; readonly warmupTicks: number; readonly cellSize: number; readonly hysteresis: number }): AoiTickRow {
  let bytes = 0;
  let records = 0;
  const present = new Set<string>();
  const rep = new SceneReplication(ENTITIES.aoi, resolveInterest({ cellSize: o.cellSize, width: AOI_MAP, height: AOI_MAP, viewRadius: AOI_VIEW, hysteresis: o.hysteresis }), {
    sceneId: 'aoi:1',
    out: (_type, _sid, payload) => {
      bytes += payload.byteLength;
      records++;
    },
    logger: silentLogger,
    present: (id) => present.has(id),
  });
  const at = (): number => Math.random() * AOI_MAP;
  for (let i = 0; i < o.npcs; i++) rep.spawn('Npc', { x: at(), y: at() });
  for (let i = 0; i < o.viewers; i++) {
    const player = { id: `p${i}`, sid: i + 1 };
    present.add(player.id);
    rep.spawn('Avatar', { x: at(), y: at(), ack: 0 }, { player });
  }
  const step = { x: 0, y: 0 };
  const move = (e: Entity): void => {
    step.x = Math.min(AOI_MAP, Math.max(0, (e.get('x') as number) + (Math.random() - 0.5) * STEP));
    step.y = Math.min(AOI_MAP, Math.max(0, (e.get('y') as number) + (Math.random() - 0.5) * STEP));
    e.set(step);
  };
  const moves: number[] = [];
  const flushes: number[] = [];
  let measuredBytes = 0;
  let measuredRecords = 0;
  for (let tick = 1; tick <= o.warmupTicks + o.ticks; tick++) {
    if (tick === o.warmupTicks + 1) bytes = records = 0;
    const t0 = performance.now();
    for (const e of rep.values()) move(e);
    const t1 = performance.now();
    rep.flush(tick);
    const t2 = performance.now();
    if (tick > o.warmupTicks) {
      moves.push(t1 - t0);
      flushes.push(t2 - t1);
    }
    measuredBytes = bytes;
    measuredRecords = records;
  }
  moves.sort((a, b) => a - b);
  const sorted = [...flushes].sort((a, b) => a - b);
  return {
    entities: o.npcs + o.viewers,
    viewers: o.viewers,
    ticks: o.ticks,
    replicationP50Ms: round(quantile(sorted, 0.5), 2),
    replicationP99Ms: round(quantile(sorted, 0.99), 2),
    replicationMeanMs: round(flushes.reduce((a, b) => a + b, 0) / flushes.length, 2),
    moveP50Ms: round(quantile(moves, 0.5), 2),
    bytesPerTick: Math.round(measuredBytes / o.ticks),
    recordsPerTick: round(measuredRecords / o.ticks, 1),
  };
}

export function aoiTickSettings(command: string, warmupTicks: number, cellSize = AOI_CELL, hysteresis = AOI_HYSTERESIS): AoiTickResultsFile['settings'] {
  return { command, warmupTicks, map: AOI_MAP, cellSize, hysteresis, viewRadius: AOI_VIEW, step: STEP };
}
