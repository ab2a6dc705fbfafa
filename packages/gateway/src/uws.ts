import { createRequire } from 'node:module';
import uWS from 'uWebSockets.js';
import { CodedError, ErrorCodes } from '@gos/schema';

/**
 * uWebSockets.js falls back to a slow pure-JS implementation when no native binary matches
 * the Node ABI. We refuse to run on the fallback: check that a `uws_*.node` module is loaded.
 */
export function assertNativeUws(): string {
  const require = createRequire(import.meta.url);
  const loaded = Object.keys(require.cache).find((k) => /uws_[^/\\]+\.node$/.test(k));
  if (loaded === undefined || typeof uWS.App !== 'function') {
    throw new CodedError(
      ErrorCodes.GW_ERR_NATIVE_UWS,
      `uWebSockets.js native binary not loaded for node ${process.versions.node} (ABI ${process.versions.modules}); supported: Node 16, 18, 20`,
    );
  }
  return loaded;
}

export { uWS };
