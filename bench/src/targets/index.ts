/**
 * The servers the bench can run, each a process entry in bin/servers/. `project` is this
 * framework in cluster shape (gateway and engine processes, coordinated through etcd);
 * `project-embedded` is the single-process default of `npm start`; `project-fat` is one
 * `gateway+engine` process on etcd, its gateway and engine linked in-process;
 * `project-embedded-tcp` is the embedded shape with its gateway reaching its engine over TCP (as
 * before the in-process link: the A/B of that change); `project-acked` is the cluster
 * shape with every move sent as a plain request, answered by an empty RESPONSE (what moves cost
 * before the NO_REPLY flag). The default run leaves it out: name it with --targets.
 * `project-say` and `project-embedded-say` (chat-fanout) say their lines through the game's
 * own `say` route, broadcast by the scene, rather than on the gateway's chat channel
 * (docs/chat.md): the A/B of chat on real channels.
 * `uws-worker` (mmo-move only) calibrates the fat-process shape: the bare target's rooms on a
 * worker thread behind the engine's rings, nothing of the framework above them
 * (src/targets/uws-worker.ts). The default run leaves it out.
 */
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '@gos/cluster';

export interface TargetSpec {
  /** Name on the command line. */
  readonly name: string;
  /** `target` field of the result rows. */
  readonly target: 'project' | 'colyseus' | 'uws';
  /** Driver the load generator uses. */
  readonly driver: 'project' | 'project-acked' | 'project-say' | 'colyseus' | 'uws';
  readonly shape?: 'cluster' | 'embedded' | 'fat';
  /** A variant of the same target, e.g. `acked`: moves answered one by one. */
  readonly variant?: string;
  /** Colyseus: its WebSocket transport, `ws` (its default) or `uws` (its uWebSockets.js transport). */
  readonly transport?: 'ws' | 'uws';
  readonly entry: string;
  /** Node flags the server runs with: this framework's own (`NODE_FLAGS`, as its process entries); none for the peers. */
  readonly nodeFlags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Needs etcd (GOS_ETCD_URL). */
  readonly needsEtcd: boolean;
}

const server = (file: string): string => fileURLToPath(new URL(`../../bin/servers/${file}`, import.meta.url));

export const TARGETS: readonly TargetSpec[] = [
  { name: 'project', target: 'project', driver: 'project', shape: 'cluster', entry: server('project.js'), nodeFlags: NODE_FLAGS, env: { SHAPE: 'cluster' }, needsEtcd: true },
  { name: 'project-acked', target: 'project', driver: 'project-acked', shape: 'cluster', variant: 'acked', entry: server('project.js'), nodeFlags: NODE_FLAGS, env: { SHAPE: 'cluster' }, needsEtcd: true },
  { name: 'project-say', target: 'project', driver: 'project-say', shape: 'cluster', variant: 'say', entry: server('project.js'), nodeFlags: NODE_FLAGS, env: { SHAPE: 'cluster' }, needsEtcd: true },
  { name: 'project-embedded-say', target: 'project', driver: 'project-say', shape: 'embedded', variant: 'say', entry: server('project.js'), nodeFlags: NODE_FLAGS, env: { SHAPE: 'embedded' }, needsEtcd: false },
  { name: 'project-fat', target: 'project', driver: 'project', shape: 'fat', entry: server('project.js'), nodeFlags: NODE_FLAGS, env: { SHAPE: 'fat' }, needsEtcd: true },
  { name: 'project-embedded', target: 'project', driver: 'project', shape: 'embedded', entry: server('project.js'), nodeFlags: NODE_FLAGS, env: { SHAPE: 'embedded' }, needsEtcd: false },
  { name: 'project-embedded-tcp', target: 'project', driver: 'project', shape: 'embedded', variant: 'tcp', entry: server('project.js'), nodeFlags: NODE_FLAGS, env: { SHAPE: 'embedded', LINK: 'tcp' }, needsEtcd: false },
  { name: 'colyseus', target: 'colyseus', driver: 'colyseus', transport: 'ws', entry: server('colyseus.js'), nodeFlags: [], env: { TRANSPORT: 'ws' }, needsEtcd: false },
  { name: 'colyseus-uws', target: 'colyseus', driver: 'colyseus', transport: 'uws', entry: server('colyseus.js'), nodeFlags: [], env: { TRANSPORT: 'uws' }, needsEtcd: false },
  { name: 'uws', target: 'uws', driver: 'uws', entry: server('uws.js'), nodeFlags: [], env: {}, needsEtcd: false },
  { name: 'uws-worker', target: 'uws', driver: 'uws', variant: 'worker', entry: server('uws-worker.js'), nodeFlags: [], env: {}, needsEtcd: false },
  { name: 'uws-filter', target: 'uws', driver: 'uws', variant: 'filter', entry: server('uws.js'), nodeFlags: [], env: { AOI: 'filter' }, needsEtcd: false },
];

export function targetByName(name: string): TargetSpec | undefined {
  return TARGETS.find((t) => t.name === name);
}
