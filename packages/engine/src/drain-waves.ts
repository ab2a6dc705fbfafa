/**
 * The order in which a draining engine moves its scenes: in waves, the scenes of one wave
 * moving at once. Scenes moving at once share this engine's CPU and the store while they
 * freeze and save, so each of their players waits for all of them; a crowded scene therefore
 * moves alone, and small or empty scenes move several at a time (an engine of many near-empty
 * scenes still drains quickly).
 */

/** Scenes a wave moves at once, at most. */
export const MOVES_AT_ONCE = 4;
/** Players a wave moves at once, at most (a scene with more moves in a wave of its own). */
export const PLAYERS_AT_ONCE = 150;

export interface DrainScene {
  readonly sceneId: string;
  readonly players: number;
}

/**
 * Waves of scene ids, the crowded scenes first (they matter most while the drain still has
 * time); each wave holds at most `maxScenes` scenes and, unless it holds a single scene, at
 * most `maxPlayers` players.
 */
export function drainWaves(scenes: readonly DrainScene[], maxScenes = MOVES_AT_ONCE, maxPlayers = PLAYERS_AT_ONCE): string[][] {
  const sorted = [...scenes].sort((a, b) => b.players - a.players || (a.sceneId < b.sceneId ? -1 : a.sceneId > b.sceneId ? 1 : 0));
  const waves: string[][] = [];
  let wave: string[] = [];
  let players = 0;
  for (const scene of sorted) {
    if (wave.length > 0 && (wave.length >= maxScenes || players + scene.players > maxPlayers)) {
      waves.push(wave);
      wave = [];
      players = 0;
    }
    wave.push(scene.sceneId);
    players += scene.players;
  }
  if (wave.length > 0) waves.push(wave);
  return waves;
}
