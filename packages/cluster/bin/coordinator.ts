#!/usr/bin/env node
/** A coordinator process: `node packages/cluster/dist/bin/coordinator.js --config gos.yaml --id coordinator-1` (see docs/cluster.md). */
import { runRole } from '../src/main.js';

await runRole('coordinator', process.argv.slice(2), process.env);
