/**
 * The map of scenario mmo-aoi, shared by the servers and the load generator: a square of
 * AOI_MAP units; a view radius covering about 1 % of it (π r² = 0.01 × AOI_MAP²); points of
 * interest where some walkers crowd.
 */
export const AOI_MAP = 10_000;
export const AOI_VIEW = Math.round(Math.sqrt((0.01 * AOI_MAP * AOI_MAP) / Math.PI));
/**
 * The default cell size and hysteresis of the bench's `aoi` scene (bench --cell, --hysteresis):
 * cells near the view radius and a small hysteresis sent the fewest bytes at this density
 * (bench/RESULTS.md, mmo-aoi, "cell size and hysteresis").
 */
export const AOI_CELL = 500;
export const AOI_HYSTERESIS = 50;
/** The grid the uws-filter server buckets moved players by (its own choice, not the scene's). */
export const AOI_FILTER_BUCKET = 250;
/** How mmo-aoi's walkers spread (bench --layouts): see LoadOptions.layout. */
export type AoiLayout = 'mixed' | 'uniform' | 'crowd';
export const AOI_LAYOUTS: readonly AoiLayout[] = ['mixed', 'uniform', 'crowd'];
/**
 * Layout `crowd`: every client in this square (its corner and side) at the map's centre: one
 * cell of the scene for any cell size of 250 or more that divides 5,000.
 */
export const AOI_CROWD_SPOT: readonly [number, number, number] = [AOI_MAP / 2, AOI_MAP / 2, 250];
/** Where a fifth of the waypoints lie (± POI_SPREAD): crowds. */
export const AOI_POIS: readonly (readonly [number, number])[] = [
  [2500, 2500],
  [7500, 2500],
  [5000, 5000],
  [2500, 7500],
  [7500, 7500],
];
export const POI_SPREAD = 150;
/** Walking speed, units per second. */
export const AOI_SPEED = 60;
