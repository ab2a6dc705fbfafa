import type { TimerChanges, TimerRecord } from './records.js';

/**
 * Timer changes in the order they were made, as one: a later change of a name (set or delete)
 * replaces an earlier one.
 */
export function mergeTimerChanges(parts: readonly (TimerChanges | undefined)[]): TimerChanges {
  const byName = new Map<string, TimerRecord | null>();
  for (const part of parts) {
    if (part === undefined) continue;
    for (const name of part.delete) byName.set(name, null);
    for (const t of part.set) byName.set(t.name, t);
  }
  const set: TimerRecord[] = [];
  const del: string[] = [];
  for (const [name, t] of byName) {
    if (t === null) del.push(name);
    else set.push(t);
  }
  return { set, delete: del };
}
