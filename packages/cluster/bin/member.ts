#!/usr/bin/env node
/**
 * Any member process, its role chosen on the command line or in the config:
 * `node packages/cluster/dist/bin/member.js --config gos.yaml --role gateway+engine --id node-1`
 * (or `role: gateway+engine` in the YAML, or GOS_ROLE). See docs/cluster.md.
 */
import { runRole } from '../src/main.js';
import { selectUwsBuild } from '../src/uws-build.js';

selectUwsBuild('gos-member', process.env);
await runRole(null, process.argv.slice(2), process.env);
