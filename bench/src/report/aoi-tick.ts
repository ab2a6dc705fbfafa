/** The aoi-tick report: the replication's time per tick by entities and viewers. */
import type { AoiTickResultsFile } from '../aoi-tick.js';
import type { ChartPoint } from './failover.js';

export function aoiTickMarkdown(file: AoiTickResultsFile): string[] {
  const s = file.settings;
  const lines = [
    `One scene's entity replication alone (SceneReplication, no sockets, no worker), on the mmo-aoi map (${s.map} × ${s.map}, cells of ${s.cellSize}, hysteresis ${s.hysteresis ?? s.cellSize / 2}, view radius ${s.viewRadius}): every entity takes a random step of up to ±${s.step / 2} units on each axis each tick, then the replication places them in cells and writes the cell frames and views. ${s.warmupTicks} ticks of warm-up. Move: the game setting every entity's position (entity.set); replication: the end of the tick.`,
    '',
    '| entities | viewers | ticks | replication p50 ms | p99 ms | mean ms | move p50 ms | kB written / tick | records / tick |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of [...file.runs].sort((a, b) => a.entities - b.entities || a.viewers - b.viewers)) {
    lines.push(`| ${r.entities} | ${r.viewers} | ${r.ticks} | ${r.replicationP50Ms.toFixed(2)} | ${r.replicationP99Ms.toFixed(2)} | ${r.replicationMeanMs.toFixed(2)} | ${r.moveP50Ms.toFixed(2)} | ${(r.bytesPerTick / 1024).toFixed(1)} | ${r.recordsPerTick} |`);
  }
  return lines;
}

export function aoiTickPoints(file: AoiTickResultsFile): ChartPoint[] {
  return file.runs.flatMap((r) => [
    { run: `${r.entities} entities, ${r.viewers} viewers`, series: 'p50', value: r.replicationP50Ms },
    { run: `${r.entities} entities, ${r.viewers} viewers`, series: 'p99', value: r.replicationP99Ms },
  ]);
}
