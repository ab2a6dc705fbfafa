import { CodedError, ErrorCodes } from '@gos/schema';
import { currentUwsHost, isUwsBuildPreference, loadUwsBuild, planUwsBuilds, type LoadedUws } from './uws-builds.js';

export type { LoadedUws, UwsBuildName, UwsBuildPreference, UwsModule } from './uws-builds.js';

export interface LoadUwsOptions {
  /**
   * `auto` (the default) chooses from the running Node ABI, platform and glibc; `v20.30` or
   * `v20.57` loads that build or fails. Process entries pass `GOS_UWS_BUILD` here.
   */
  readonly build?: string | undefined;
}

/** The build this thread loaded: a native module is loaded once, and every gateway of the thread shares it. */
let loaded: LoadedUws | undefined;

/**
 * Load uWebSockets.js: the build that fits this host (docs/platforms.md), never uWS's slow
 * JS fallback. Loads once per thread; later calls return the same build.
 * @throws CodedError `OPT_ERR_INVALID` for an unknown build name; `GW_ERR_NATIVE_UWS` when no
 *   build loads natively (the message names each build and why), or when another build than
 *   the one asked for is already loaded.
 */
export function loadUws(options: LoadUwsOptions = {}): LoadedUws {
  const preference = options.build === undefined || options.build === '' ? 'auto' : options.build;
  if (!isUwsBuildPreference(preference)) {
    throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `uWebSockets.js build must be auto, v20.30 or v20.57, got "${preference}"`);
  }
  if (loaded !== undefined) {
    if (preference !== 'auto' && preference !== loaded.build) {
      throw new CodedError(ErrorCodes.GW_ERR_NATIVE_UWS, `uWebSockets.js ${loaded.build} is already loaded in this thread; cannot switch to ${preference}`);
    }
    return loaded;
  }
  const host = currentUwsHost();
  const result = loadUwsBuild(host, planUwsBuilds(host, preference));
  if (!result.ok) throw new CodedError(ErrorCodes.GW_ERR_NATIVE_UWS, result.message);
  loaded = result.loaded;
  return loaded;
}

