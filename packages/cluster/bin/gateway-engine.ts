#!/usr/bin/env node
/**
 * A fat process: a gateway and an engine linked in-process (no socket between them), two
 * members of the cluster. `node packages/cluster/dist/bin/gateway-engine.js --config gos.yaml --id node-1`
 * runs gateway `node-1` and engine `node-1-engine` (see docs/cluster.md).
 */
import { runRole } from '../src/main.js';
import { selectUwsBuild } from '../src/uws-build.js';

selectUwsBuild('gos-gateway-engine', process.env);
await runRole('gateway+engine', process.argv.slice(2), process.env);
