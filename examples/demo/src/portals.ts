/**
 * The demo's maps and the portals between them (shared by the game and the web client): walking
 * into a portal's circle takes the player to the other map, on the same socket.
 */
export interface Portal {
  /** The map the portal stands in. */
  readonly sceneId: string;
  readonly x: number;
  readonly y: number;
  readonly radius: number;
  /** Where it leads: a map, and the arrival point there (outside that map's own portal). */
  readonly to: string;
  readonly exit: { readonly x: number; readonly y: number };
}

/** The maps players can be in: `world:1` (the default) and `world:2`, joined by a portal pair. */
export const MAPS: readonly string[] = ['world:1', 'world:2'];

export const PORTALS: readonly Portal[] = [
  { sceneId: 'world:1', x: 960, y: 500, radius: 25, to: 'world:2', exit: { x: 90, y: 500 } },
  { sceneId: 'world:2', x: 40, y: 500, radius: 25, to: 'world:1', exit: { x: 910, y: 500 } },
];

/** The portal of `sceneId` whose circle holds (x, y), if any. */
export function portalAt(sceneId: string, x: number, y: number): Portal | undefined {
  return PORTALS.find((p) => p.sceneId === sceneId && Math.hypot(p.x - x, p.y - y) <= p.radius);
}
