export { MemoryCoordinator } from './memory.js';
export { sceneTypeOf } from './types.js';
export type {
  Coordinator,
  LeaderElection,
  MemberHandle,
  MemberInfo,
  MemberRole,
  Membership,
  MembershipEvent,
  Placement,
  PlacementEvent,
  PlacementRecord,
} from './types.js';
