/**
 * How the bench runs this framework: the mmo game module, gateway settings for a load test
 * (one source address opens thousands of sessions), and scene sharding of 100 players a scene.
 */
import { fileURLToPath } from 'node:url';
import type { GatewayOptions } from '@gos/gateway';

export const GAME_MODULE = fileURLToPath(new URL('./game.js', import.meta.url));
export const PLAYERS_PER_SCENE = 100;

/** Fill `mmo:0` with 100 players, then `mmo:1`, … in login order. */
export function sceneSharder(perScene = PLAYERS_PER_SCENE): NonNullable<GatewayOptions['sceneForLogin']> {
  let logins = 0;
  return () => `mmo:${Math.floor(logins++ / perScene)}`;
}

/** The load generator logs thousands of guests in from 127.0.0.1: lift the per-address auth limit. */
export const BENCH_LIMITS: GatewayOptions['limits'] = { authRequestsPerSecond: 100_000, authBurst: 100_000 };
