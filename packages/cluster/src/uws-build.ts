import { loadUws } from '@gos/gateway';

/**
 * GOS_UWS_BUILD: auto (the default), v20.30 or v20.57 — which uWebSockets.js build a process
 * with a gateway loads (docs/platforms.md). A bad value exits 2, a build that cannot load 1.
 */
export function selectUwsBuild(tool: string, env: NodeJS.ProcessEnv): void {
  const build = env['GOS_UWS_BUILD'];
  if (build === undefined) return;
  try {
    loadUws({ build });
  } catch (err) {
    process.stderr.write(`${tool}: ${(err as Error).message}\n`);
    process.exit((err as { code?: unknown }).code === 'OPT_ERR_INVALID' ? 2 : 1);
  }
}
