export { Engine } from './engine.js';
export type { EngineOptions } from './options.js';
export type { PlayerLocator } from './player-pushes.js';
export type { AdminCredential } from './admin.js';
export { defineGame, defineScene, defineService } from './api.js';
export type { CallHandler, CallOptions, SendToOptions, DurableTimer, DurableTimers, ScheduleAt, GameDefinition, Handler, HandlerContext, Player, Scene, SceneDefinition, Service, ServiceDefinition, ServiceHandler, ServiceSceneDefinition, TimerHandle, Entity, SceneEntities, InterestOptions, Mail, MailInput, MailListOptions, MailTo, SceneMail } from './api.js';
export { COLLECT_GARBAGE_CHANNEL, isCollectedHeap, type CollectedHeap } from './collect.js';
/** The entity replication of one scene, standalone (what a scene thread runs at the end of each tick): for benches and tools. */
export { SceneReplication, type ReplicationDeps, type ReplicationOut } from './worker/replication.js';
export { resolveInterest } from './worker/interest-grid.js';
