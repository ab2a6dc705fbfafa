/**
 * The map of scenario mmo-aoi, shared by the servers and the load generator: a square of
 * AOI_MAP units; a view radius covering about 1 % of it (π r² = 0.01 × AOI_MAP²); points of
 * interest where some walkers crowd.
 */
export const AOI_MAP = 10_000;
export const AOI_VIEW = Math.round(Math.sqrt((0.01 * AOI_MAP * AOI_MAP) / Math.PI));
export const AOI_CELL = 250;
/** How mmo-aoi's walkers spread (bench --layouts): see LoadOptions.layout. */
export type AoiLayout = 'mixed' | 'uniform' | 'crowd';
export const AOI_LAYOUTS: readonly AoiLayout[] = ['mixed', 'uniform', 'crowd'];
/** Layout `crowd`: every client in this cell (its corner), the one at the map's centre. */
export const AOI_CROWD_CELL: readonly [number, number] = [Math.floor(AOI_MAP / 2 / AOI_CELL) * AOI_CELL, Math.floor(AOI_MAP / 2 / AOI_CELL) * AOI_CELL];
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
