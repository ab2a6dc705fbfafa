/**
 * The cluster's status as etcd holds it: members with their load, the leader, and where every
 * scene runs. Read once through an etcd coordinator (nothing is written).
 */
import { EtcdCoordinator, type MemberInfo, type PlacementRecord, type PlacementRequest } from '@gos/coordinator';
import { CodedError, ErrorCodes } from '@gos/schema';
import type { ClusterConfig } from './config.js';

export interface ClusterStatus {
  readonly etcd: readonly string[];
  readonly prefix: string;
  readonly leader: string | null;
  readonly members: readonly MemberInfo[];
  readonly placements: readonly PlacementRecord[];
  /** Placement requests the leader has not served (a scene waiting for a leader, or refused). */
  readonly requests: readonly PlacementRequest[];
  /**
   * The leader's scale decision (docs/scaling.md "Scale decisions"): engines and gateways now
   * (draining ones left out) and how many the load calls for; null before a leader published one.
   */
  readonly scale: ScaleStatus | null;
  readonly readAt: number;
}

export interface ScaleStatus {
  readonly engines: { readonly now: number; readonly desired: number };
  readonly gateways: { readonly now: number; readonly desired: number };
}

/** The leader's scale decision with the live counts beside it; null without one. */
export function scaleStatus(members: readonly MemberInfo[], leader: string | null): ScaleStatus | null {
  const desired = members.find((m) => m.role === 'coordinator' && m.id === leader)?.desired;
  if (desired === undefined) return null;
  const now = (role: 'engine' | 'gateway'): number => members.filter((m) => m.role === role && m.draining !== true).length;
  return { engines: { now: now('engine'), desired: desired.engines }, gateways: { now: now('gateway'), desired: desired.gateways } };
}

const ROLE_ORDER = ['coordinator', 'gateway', 'engine'];

/** Read the status. @throws CodedError `CRD_ERR_UNAVAILABLE` when etcd does not answer within `timeoutMs`. */
export async function readStatus(config: ClusterConfig, timeoutMs = 5000): Promise<ClusterStatus> {
  const { hosts, prefix } = config.etcd;
  const coordinator = new EtcdCoordinator({ hosts, prefix });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      coordinator.start(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CodedError(ErrorCodes.CRD_ERR_UNAVAILABLE, `etcd at ${hosts.join(', ')} did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
    const members = [...coordinator.membership.list()].sort((a, b) => ROLE_ORDER.indexOf(a.role) - ROLE_ORDER.indexOf(b.role) || a.id.localeCompare(b.id));
    const requests = coordinator.placement.requests().map(({ sceneId, requestedBy, at, refused }) => ({ sceneId, requestedBy, at, ...(refused === undefined ? {} : { refused }) }));
    const leader = coordinator.election.leader() ?? null;
    return { etcd: hosts, prefix, leader, members, placements: coordinator.placement.list(), requests, scale: scaleStatus(members, leader), readAt: Date.now() };
  } finally {
    clearTimeout(timer);
    await coordinator.close().catch(() => {});
  }
}

/** The status as a few aligned tables. */
export function formatStatus(s: ClusterStatus): string {
  const lines: string[] = [];
  lines.push(`cluster "${s.prefix}" on ${s.etcd.join(', ')}`);
  lines.push(`leader: ${s.leader ?? '(none elected)'}`);
  if (s.scale !== null) {
    const { engines, gateways } = s.scale;
    const say = (what: string, c: { now: number; desired: number }): string => `${what} ${c.now}${c.desired === c.now ? '' : ` → ${c.desired}`}`;
    lines.push(`scale (the leader's decision for the load): ${say('engines', engines)}, ${say('gateways', gateways)}${engines.desired === engines.now && gateways.desired === gateways.now ? ' (as it should be)' : ''}`);
  }
  lines.push('');
  lines.push(`members (${s.members.length}):`);
  lines.push(
    ...table(
      ['role', 'id', 'address', 'load', 'capacity', 'scenes', 'threads', 'up'],
      s.members.map((m) => [
        m.role,
        m.id,
        m.address,
        String(m.load),
        String(m.capacity),
        m.scenes === undefined ? '' : String(m.scenes),
        m.utilisation === undefined ? '' : `${Math.round(m.utilisation * 100)}%`,
        age(s.readAt - m.startedAt),
      ]),
    ),
  );
  const byEngine = new Map<string, number>();
  for (const p of s.placements) byEngine.set(p.engineId, (byEngine.get(p.engineId) ?? 0) + 1);
  lines.push('');
  lines.push(`placement (${s.placements.length} scenes${byEngine.size === 0 ? '' : `; ${[...byEngine].map(([e, n]) => `${e}: ${n}`).join(', ')}`}):`);
  const engines = new Map(s.members.filter((m) => m.role === 'engine').map((m) => [m.id, m]));
  const note = (p: PlacementRecord): string => {
    const engine = engines.get(p.engineId);
    if (engine === undefined) return 'engine missing';
    return engine.idleScenes?.[p.sceneId] === p.epoch ? 'idle: stopped, to be released' : '';
  };
  lines.push(...table(['scene', 'engine', 'epoch', ''], s.placements.map((p) => [p.sceneId, p.engineId, String(p.epoch), note(p)])));
  if (s.requests.length > 0) {
    lines.push('');
    lines.push(`placement requests waiting (${s.requests.length}):`);
    lines.push(...table(['scene', 'asked by', 'waiting', ''], s.requests.map((r) => [r.sceneId, r.requestedBy, age(s.readAt - r.at), r.refused === undefined ? '' : `refused: ${r.refused.code}`])));
  }
  return lines.join('\n');
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function table(head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['  (none)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  return [line(head), ...rows.map(line)];
}
