/**
 * uWebSockets.js for the bare target: the same build choice as the framework's gateway
 * (docs/platforms.md), through the gateway's dependency-free `uws-builds` entry; importing the
 * whole gateway here would load the framework into the ceiling server and inflate its memory.
 */
// eslint-disable-next-line no-restricted-imports -- a declared, dependency-free entry of @gos/gateway, not its internals
import { currentUwsHost, loadUwsBuild, planUwsBuilds, type LoadedUws } from '@gos/gateway/uws-builds';

/** Loads the build that fits this host, natively, or throws naming each build and why it did not load. */
export function loadUws(): LoadedUws {
  const host = currentUwsHost();
  const result = loadUwsBuild(host, planUwsBuilds(host));
  if (!result.ok) throw new Error(result.message);
  return result.loaded;
}
