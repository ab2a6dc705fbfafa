export { Engine } from './engine.js';
export type { EngineOptions } from './options.js';
export type { PlayerLocator } from './player-pushes.js';
export type { AdminCredential } from './admin.js';
export { defineGame, defineScene, defineService } from './api.js';
export type { CallHandler, CallOptions, SendToOptions, DurableTimer, DurableTimers, ScheduleAt, GameDefinition, Handler, HandlerContext, Player, Scene, SceneDefinition, Service, ServiceDefinition, ServiceHandler, ServiceSceneDefinition, TimerHandle, Entity, SceneEntities, InterestOptions } from './api.js';
export { COLLECT_GARBAGE_CHANNEL, isCollectedHeap, type CollectedHeap } from './collect.js';
