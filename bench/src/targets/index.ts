/**
 * The servers the bench can run, each a process entry in bin/servers/. `project` is this
 * framework in cluster shape (gateway and engine processes, coordinated through etcd);
 * `project-embedded` is the single-process default of `npm start`; `project-acked` is the cluster
 * shape with every move sent as a plain request, answered by an empty RESPONSE (what moves cost
 * before the NO_REPLY flag). The default run leaves it out: name it with --targets.
 */
import { fileURLToPath } from 'node:url';

export interface TargetSpec {
  /** Name on the command line. */
  readonly name: string;
  /** `target` field of the result rows. */
  readonly target: 'project' | 'colyseus' | 'uws';
  /** Driver the load generator uses. */
  readonly driver: 'project' | 'project-acked' | 'colyseus' | 'uws';
  readonly shape?: 'cluster' | 'embedded';
  /** A variant of the same target, e.g. `acked`: moves answered one by one. */
  readonly variant?: string;
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  /** Needs etcd (GOS_ETCD_URL). */
  readonly needsEtcd: boolean;
}

const server = (file: string): string => fileURLToPath(new URL(`../../bin/servers/${file}`, import.meta.url));

export const TARGETS: readonly TargetSpec[] = [
  { name: 'project', target: 'project', driver: 'project', shape: 'cluster', entry: server('project.js'), env: { SHAPE: 'cluster' }, needsEtcd: true },
  { name: 'project-acked', target: 'project', driver: 'project-acked', shape: 'cluster', variant: 'acked', entry: server('project.js'), env: { SHAPE: 'cluster' }, needsEtcd: true },
  { name: 'project-embedded', target: 'project', driver: 'project', shape: 'embedded', entry: server('project.js'), env: { SHAPE: 'embedded' }, needsEtcd: false },
  { name: 'colyseus', target: 'colyseus', driver: 'colyseus', entry: server('colyseus.js'), env: {}, needsEtcd: false },
  { name: 'uws', target: 'uws', driver: 'uws', entry: server('uws.js'), env: {}, needsEtcd: false },
];

export function targetByName(name: string): TargetSpec | undefined {
  return TARGETS.find((t) => t.name === name);
}
