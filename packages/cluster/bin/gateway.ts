#!/usr/bin/env node
/** A gateway process: `node packages/cluster/dist/bin/gateway.js --config gos.yaml --id gateway-1` (see docs/cluster.md). */
import { loadUws } from '@gos/gateway';
import { runRole } from '../src/main.js';

// GOS_UWS_BUILD: auto (the default), v20.30 or v20.57 — which uWebSockets.js build to load (docs/platforms.md).
if (process.env['GOS_UWS_BUILD'] !== undefined) {
  try {
    loadUws({ build: process.env['GOS_UWS_BUILD'] });
  } catch (err) {
    process.stderr.write(`gos-gateway: ${(err as Error).message}\n`);
    process.exit((err as { code?: unknown }).code === 'OPT_ERR_INVALID' ? 2 : 1);
  }
}
await runRole('gateway', process.argv.slice(2), process.env);
