/**
 * Config bundles from the engine's main thread to its scene threads (docs/config-data.md): one
 * BroadcastChannel per engine (its name in every SceneTaskInput) carries each new bundle once to
 * every worker thread, which loads it once for all the scenes it hosts.
 */

/** A bundle as the engine offers it: `seq` orders publishes (a later one always wins). */
export interface ConfigOffer {
  readonly seq: number;
  /** The bundle's version (from `npm run config`). */
  readonly version: string;
  /** The bundle (checked on the main thread: format 1, side server, tables and globals). */
  readonly bundle: unknown;
}

export interface ConfigMessage extends ConfigOffer {
  readonly type: 'config';
}

export function isConfigOffer(v: unknown): v is ConfigOffer {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o['seq'] === 'number' && Number.isSafeInteger(o['seq']) && o['seq'] > 0 && typeof o['version'] === 'string' && typeof o['bundle'] === 'object' && o['bundle'] !== null;
}

export function isConfigMessage(v: unknown): v is ConfigMessage {
  return isConfigOffer(v) && (v as unknown as Record<string, unknown>)['type'] === 'config';
}
