/**
 * How an mmo-aoi client walks (LoadOptions.layout): towards a waypoint at AOI_SPEED, a new one
 * once there — anywhere on the map (uniform), mostly anywhere and sometimes to a point of
 * interest (mixed), or inside the crowd's square (crowd).
 */
import { AOI_CROWD_SPOT, AOI_MAP, AOI_POIS, POI_SPREAD, type AoiLayout } from '../targets/project/aoi-map.js';

/** What walking reads and moves on a client. */
export interface Walker {
  x: number;
  y: number;
  /** Where it walks to. */
  wx: number;
  wy: number;
  readonly layout: AoiLayout;
}

/** A place in the crowd's square (AOI_CROWD_SPOT, at the map's centre), clear of its edges. */
export function crowdSpot(): [number, number] {
  const [x0, y0, side] = AOI_CROWD_SPOT;
  return [x0 + 10 + Math.random() * (side - 20), y0 + 10 + Math.random() * (side - 20)];
}

/** mmo-aoi: the next place to walk to (LoadOptions.layout). */
export function waypoint(c: Walker): void {
  if (c.layout === 'crowd') {
    [c.wx, c.wy] = crowdSpot();
    return;
  }
  if (c.layout === 'mixed' && Math.random() < 0.2) {
    const [px, py] = AOI_POIS[Math.floor(Math.random() * AOI_POIS.length)]!;
    c.wx = px + (Math.random() - 0.5) * 2 * POI_SPREAD;
    c.wy = py + (Math.random() - 0.5) * 2 * POI_SPREAD;
  } else {
    c.wx = Math.random() * AOI_MAP;
    c.wy = Math.random() * AOI_MAP;
  }
}

/** mmo-aoi: one step of `step` units towards the waypoint; a new one once there. */
export function walk(c: Walker, step: number): void {
  const dx = c.wx - c.x;
  const dy = c.wy - c.y;
  const d = Math.hypot(dx, dy);
  if (d <= step) {
    c.x = c.wx;
    c.y = c.wy;
    waypoint(c);
    return;
  }
  c.x += (dx / d) * step;
  c.y += (dy / d) * step;
}
