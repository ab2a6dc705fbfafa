export { MemoryCoordinator } from './memory.js';
export { EtcdCoordinator } from './etcd.js';
export { CoordinatorNode, type CoordinatorNodeOptions } from './node.js';
export { GameManager, type GameManagerOptions } from './game-manager.js';
export type { MemoryCoordinatorOptions } from './memory.js';
export type { EtcdCoordinatorOptions, EtcdViewStats } from './etcd.js';
export { sceneTypeOf } from './types.js';
export { hasRoom, pickLeastLoadedEngine, rankGateways } from './policy.js';
export type {
  Coordinator,
  LeaderElection,
  MemberFigures,
  MemberHandle,
  MemberInfo,
  MemberRole,
  Membership,
  MembershipEvent,
  Placement,
  PlacementEvent,
  PlacementRecord,
  PlacementRequest,
} from './types.js';
