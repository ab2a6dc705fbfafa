import type { Driver } from '../driver.js';
import { colyseusDriver } from './colyseus.js';
import { projectDriver } from './project.js';
import { uwsDriver } from './uws.js';

/** Load generator drivers by target name (`project` serves both shapes of this framework). */
export const DRIVERS = {
  project: projectDriver({ noReply: true }),
  'project-acked': projectDriver({ noReply: false }),
  'project-say': projectDriver({ noReply: true, chat: 'scene-route' }),
  colyseus: colyseusDriver,
  uws: uwsDriver,
} as const satisfies Record<string, Driver>;

export function isTarget(name: string): name is keyof typeof DRIVERS {
  return Object.hasOwn(DRIVERS, name);
}
