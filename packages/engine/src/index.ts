export { Engine } from './engine.js';
export type { EngineOptions } from './options.js';
export type { PlayerLocator } from './player-pushes.js';
export { defineGame, defineScene } from './api.js';
export type { GameDefinition, Handler, HandlerContext, Player, Scene, SceneDefinition, TimerHandle } from './api.js';
export { COLLECT_GARBAGE_CHANNEL, isCollectedHeap, type CollectedHeap } from './collect.js';
