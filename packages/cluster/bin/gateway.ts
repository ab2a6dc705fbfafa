#!/usr/bin/env node
/** A gateway process: `node packages/cluster/dist/bin/gateway.js --config gos.yaml --id gateway-1` (see docs/cluster.md). */
import { runRole } from '../src/main.js';
import { selectUwsBuild } from '../src/uws-build.js';

selectUwsBuild('gos-gateway', process.env);
await runRole('gateway', process.argv.slice(2), process.env);
