/**
 * The leaderboard scenario (issue 15): one board in real Redis, filled through the API with
 * up to 10 million members (one `submit` each, many in flight: the sustained update rate), then
 * at each size every operation a game asks for, for a few seconds each, one request at a time
 * (latency) and many in flight (throughput, as several engines would ask): a member's rank
 * (`get`), around-me (`around`, 5 each side), a page of 20 at a random offset, and score
 * updates (`submit`, policy best). Redis runs on one core, this process on the other.
 */
import { Redis } from 'ioredis';
import { Leaderboards, RedisLeaderboardBackend } from '@gos/leaderboard';
import type { Machine } from './report/results.js';
import { LatencyRecorder, round } from './stats.js';

export type LeaderboardOpName = 'rank' | 'around-me' | 'page' | 'update';

export interface LeaderboardRow {
  readonly members: number;
  readonly op: LeaderboardOpName;
  /** Requests in flight at once. */
  readonly concurrency: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly opsPerSec: number;
  readonly ops: number;
}

export interface LeaderboardFill {
  /** Board size reached. */
  readonly members: number;
  /** Submits per second while filling to it (new members, many in flight). */
  readonly submitsPerSec: number;
  /** Redis used_memory after the fill, per member. */
  readonly redisBytesPerMember: number;
}

export interface LeaderboardResultsFile {
  readonly scenario: 'leaderboard';
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly command: string;
    /** Each operation's warm-up before it is measured. */
    readonly warmupSeconds: number;
    /** How long each operation is measured, at each size and concurrency. */
    readonly steadySeconds: number;
    readonly concurrency: readonly number[];
    readonly fillConcurrency: number;
    readonly redis: string;
  };
  readonly fills: readonly LeaderboardFill[];
  readonly runs: readonly LeaderboardRow[];
}

export interface LeaderboardOptions {
  /** Board sizes to measure at, ascending (the board grows from one to the next). */
  readonly sizes: readonly number[];
  readonly seconds: number;
  readonly concurrency: readonly number[];
  readonly fillConcurrency: number;
  readonly redisUrl: string;
  readonly onProgress?: (line: string) => void;
}

const BOARD = 'bench-board';

/** Run `op` with `inFlight` requests always outstanding for `seconds`. */
async function measure(seconds: number, inFlight: number, op: () => Promise<unknown>): Promise<{ latency: LatencyRecorder; ops: number; elapsedS: number }> {
  const latency = new LatencyRecorder();
  const until = performance.now() + seconds * 1000;
  let ops = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (performance.now() < until) {
      const t0 = performance.now();
      await op();
      latency.record(performance.now() - t0);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { latency, ops, elapsedS: (performance.now() - started) / 1000 };
}

const member = (i: number): string => `player-${i.toString(36).padStart(6, '0')}`;

export async function runLeaderboard(o: LeaderboardOptions): Promise<{ fills: LeaderboardFill[]; runs: LeaderboardRow[] }> {
  const keyPrefix = `gos-bench-lb:${process.pid}:`;
  const lb = new Leaderboards({ backend: new RedisLeaderboardBackend({ url: o.redisUrl, keyPrefix, commandTimeoutMs: 30_000 }), archiver: false });
  const admin = new Redis(o.redisUrl, { maxRetriesPerRequest: 2 });
  const fills: LeaderboardFill[] = [];
  const runs: LeaderboardRow[] = [];
  try {
    await lb.start();
    await lb.create(BOARD, { policy: 'best' });
    const baseMemory = usedMemory(await admin.info('memory'));
    let size = 0;
    for (const target of o.sizes) {
      // Fill: new members with random scores, `fillConcurrency` submits in flight.
      const from = size;
      let next = from;
      const t0 = performance.now();
      let lastReport = t0;
      const lane = async (): Promise<void> => {
        while (next < target) {
          const i = next++;
          await lb.submit(BOARD, member(i), Math.floor(Math.random() * 1_000_000_000));
          if (i % 100_000 === 0 && performance.now() - lastReport > 5000) {
            lastReport = performance.now();
            o.onProgress?.(`filling: ${i.toLocaleString('en')} of ${target.toLocaleString('en')} members`);
          }
        }
      };
      await Promise.all(Array.from({ length: o.fillConcurrency }, lane));
      size = target;
      const seconds = (performance.now() - t0) / 1000;
      const memory = usedMemory(await admin.info('memory'));
      fills.push({ members: target, submitsPerSec: Math.round((target - from) / seconds), redisBytesPerMember: Math.round((memory - baseMemory) / target) });
      o.onProgress?.(`filled to ${target.toLocaleString('en')} members at ${Math.round((target - from) / seconds).toLocaleString('en')} submits/s`);

      const any = (): string => member(Math.floor(Math.random() * size));
      const ops: Record<LeaderboardOpName, () => Promise<unknown>> = {
        rank: () => lb.get(BOARD, any()),
        'around-me': () => lb.around(BOARD, any(), { before: 5, after: 5 }),
        page: () => lb.page(BOARD, { offset: Math.floor(Math.random() * Math.max(1, size - 20)), limit: 20 }),
        update: () => lb.submit(BOARD, any(), Math.floor(Math.random() * 1_000_000_000)),
      };
      for (const [name, op] of Object.entries(ops) as Array<[LeaderboardOpName, () => Promise<unknown>]>) {
        for (const concurrency of o.concurrency) {
          await measure(1, concurrency, op); // warm-up
          const { latency, ops: done, elapsedS } = await measure(o.seconds, concurrency, op);
          const s = latency.summary();
          const row = { members: size, op: name, concurrency, p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs, opsPerSec: Math.round(done / elapsedS), ops: done };
          runs.push(row);
          o.onProgress?.(`${size.toLocaleString('en')} members, ${name} ×${concurrency}: p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, ${row.opsPerSec.toLocaleString('en')}/s`);
        }
      }
    }
  } finally {
    await lb.delete(BOARD).catch(() => false);
    await lb.close();
    admin.disconnect();
  }
  return { fills, runs: runs.map((r) => ({ ...r, p50Ms: round(r.p50Ms), p99Ms: round(r.p99Ms) })) };
}

function usedMemory(info: string): number {
  const m = /^used_memory:(\d+)/m.exec(info);
  return m === null ? 0 : Number(m[1]);
}
