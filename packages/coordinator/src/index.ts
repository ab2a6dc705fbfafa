export { MemoryCoordinator } from './memory.js';
export { EtcdCoordinator } from './etcd.js';
export { CoordinatorNode, SCALE_DEFAULTS, type CoordinatorNodeOptions } from './node.js';
export { GameManager, type GameManagerOptions } from './game-manager.js';
export type { MemoryCoordinatorOptions } from './memory.js';
export type { EtcdCoordinatorOptions, EtcdViewStats } from './etcd.js';
export { sceneTypeOf } from './types.js';
export { decideScale, hasRoom, pickLeastLoadedEngine, planGatewayShare, planRebalance, rankGateways, type PlannedMove, type PlannedShare, type RebalanceOptions, type ScaleDecision, type ScaleOptions } from './policy.js';
export { Rebalancer, type RebalancerOptions } from './rebalancer.js';
export { registerLeaseMetrics } from './metrics.js';
export type {
  Coordinator,
  LeaderElection,
  MemberFigures,
  MemberHandle,
  MemberInfo,
  MemberRole,
  Membership,
  MembershipEvent,
  MoveRequest,
  Placement,
  PlacementEvent,
  PlacementRecord,
  PlacementRequest,
  SceneHandover,
  SceneMoves,
  DrainRequest,
  GatewayShare,
  LeaseState,
  MemberDrains,
} from './types.js';
