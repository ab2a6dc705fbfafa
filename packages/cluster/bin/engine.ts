#!/usr/bin/env node
/** A engine process: `node packages/cluster/dist/bin/engine.js --config gos.yaml --id engine-1` (see docs/cluster.md). */
import { runRole } from '../src/main.js';

await runRole('engine', process.argv.slice(2), process.env);
