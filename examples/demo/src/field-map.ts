/** The large map `field:<n>` (field.ts), shared with the browser client: no engine code here. */
export const FIELD_SIZE = 4000;
export const FIELD_CELL = 100;
/** About 0.8 % of the map around each player. */
export const FIELD_VIEW = 200;
/** Within this, every move every tick; beyond it (the far band) positions at most every other tick (docs/aoi.md "Distance bands"). */
export const FIELD_NEAR = 100;
export const FIELD_MAPS = ['field:1'];
