/**
 * The demo's config data (config/demo.xlsx → src/generated-config by `npm run config`,
 * docs/config-data.md): what a scene reads from the bundle in force, with the demo's defaults
 * when none is.
 */
import { Config } from './generated-config/config.js';

/** The bundle in force in `scene`, or null (nothing published, or the loader refused it). */
export function configIn(scene: { readonly config: unknown }): Config | null {
  return scene.config instanceof Config ? scene.config : null;
}

/** What Welcome says of the map and the day: the zone's name and greeting, the message of the day. */
export function welcomeLines(scene: { readonly id: string; readonly config: unknown }): { zone: string; motd: string } {
  const config = configIn(scene);
  const zone = config?.Zone.get(scene.id);
  return { zone: zone === undefined ? '' : `${zone.name}: ${zone.greeting}`, motd: config?.globals.motd ?? '' };
}
