/**
 * `--rounds K`: every run of a scenario is made K times, the rounds alternating with the other
 * targets', and each (target, client count) keeps its median round. On a shared 2-core VM one
 * run's CPU per message moves by ±10–15 % between back-to-back runs of the same build (the
 * hypervisor's steal is not accounted apart, so it lands in the server's own CPU time); a
 * median of alternating rounds is what a ratio between two targets can be read from.
 */
import type { RunRow } from '../orchestrate.js';

/**
 * One row per key (first-seen order): the round with the median CPU-µs per message (of an even
 * number, the lower of the two middle ones), carrying `rounds` and every round's value. The
 * row is a real run, whole: its latency, memory and generator load are that round's, not
 * medians taken field by field. A key that ran once is returned as it is (no `rounds`).
 */
export function medianRounds<R extends RunRow>(runs: readonly R[], keyOf: (run: R) => string): R[] {
  const groups = new Map<string, R[]>();
  for (const run of runs) {
    const key = keyOf(run);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [run]);
    else group.push(run);
  }
  return [...groups.values()].map((group) => {
    if (group.length === 1) return group[0]!;
    const sorted = [...group].sort((a, b) => a.cpuUsPerMsg - b.cpuUsPerMsg);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    return { ...median, rounds: group.length, cpuUsPerMsgRounds: group.map((r) => r.cpuUsPerMsg) };
  });
}
