#!/usr/bin/env node
/**
 * `npm run bots -- --count N --seconds S`: N bot players against the gateway at PORT (3000) on
 * HOST (127.0.0.1). The last line printed is one JSON object with the results.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runBots } from '../src/bots.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    rate: { type: 'string', default: '10' },
    url: { type: 'string' },
    ca: { type: 'string' },
  },
});
const count = Number(values.count);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
if (!Number.isInteger(count) || count < 1 || !Number.isFinite(seconds) || seconds <= 0 || !(rate > 0)) {
  process.stderr.write('usage: npm run bots -- --count N --seconds S [--rate movesPerSecond] [--url http://127.0.0.1:3000] [--ca ca.pem]\n');
  process.exit(2);
}
const baseUrl = values.url ?? `http://${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? '3000'}`;
// --ca: trust this CA (PEM) for an https gateway whose certificate a private CA signed.
const ca = values.ca === undefined ? undefined : readFileSync(values.ca);
const result = await runBots({ baseUrl, count, seconds, movesPerSecond: rate, ...(ca === undefined ? {} : { ca }) });
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.errors === 0 && result.connected === count ? 0 : 1);
