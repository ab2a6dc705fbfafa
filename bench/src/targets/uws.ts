/**
 * uWebSockets.js for the bare target. The framework's gateway has the same native-binary check
 * (`assertNativeUws` in @gos/gateway); importing the gateway here would load the whole framework
 * into the ceiling server and inflate its memory, so the check is repeated in three lines.
 */
import { createRequire } from 'node:module';
import uWS from 'uWebSockets.js';

export function assertNativeUws(): void {
  const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => /uws_[^/\\]+\.node$/.test(k));
  if (!loaded) throw new Error(`uWebSockets.js native binary not loaded for node ${process.versions.node}`);
}

export { uWS };
