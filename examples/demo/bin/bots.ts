#!/usr/bin/env node
/**
 * `npm run bots -- --count N --seconds S`: N bot players against the gateway at PORT (3000) on
 * HOST (127.0.0.1). The last line printed is one JSON object with the results.
 */
import { readFileSync } from 'node:fs';
import { parseCommandLine } from '@gos/cluster';
import { runBots } from '../src/bots.js';

const USAGE = `usage: npm run bots -- [--count N] [--seconds S] [--rate MOVES] [--map world|field] [--url URL] [--ca FILE]
  --count N      bot players (10)
  --seconds S    how long they walk (10)
  --rate MOVES   moves per second per bot (10)
  --map MAP      world (default): the world maps; field: the large map field:1 (docs/aoi.md)
  --url URL      the gateway's HTTP address (default: http://$HOST:$PORT, i.e. http://127.0.0.1:3000)
  --ca FILE      a CA (PEM) to trust for an https gateway whose certificate a private CA signed
  -h, --help     this text
Prints one JSON line last; exits 1 when a bot failed to connect or saw an error.`;

const { values, fail } = parseCommandLine(
  { name: 'bots', usage: USAGE },
  {
    options: {
      count: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '10' },
      map: { type: 'string', default: 'world' },
      url: { type: 'string' },
      ca: { type: 'string' },
    },
  },
);
const count = Number(values.count);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
if (!Number.isInteger(count) || count < 1) fail(`--count must be a positive integer, got "${values.count}"`);
if (!Number.isFinite(seconds) || seconds <= 0) fail(`--seconds must be a positive number, got "${values.seconds}"`);
if (!Number.isFinite(rate) || rate <= 0) fail(`--rate must be a positive number, got "${values.rate}"`);
if (values.map !== 'world' && values.map !== 'field') fail(`--map must be world or field, got "${values.map}"`);
if (values.url !== undefined && !URL.canParse(values.url)) fail(`--url must be a URL, got "${values.url}"`);
const baseUrl = values.url ?? `http://${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? '3000'}`;
// --ca: trust this CA (PEM) for an https gateway whose certificate a private CA signed.
const ca = ((): Buffer | undefined => {
  if (values.ca === undefined) return undefined;
  try {
    return readFileSync(values.ca);
  } catch (err) {
    return fail(`--ca: cannot read ${values.ca}: ${(err as Error).message}`);
  }
})();
const result = await runBots({ baseUrl, count, seconds, movesPerSecond: rate, map: values.map === 'field' ? 'field' : 'world', ...(ca === undefined ? {} : { ca }) });
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(result.errors === 0 && result.connected === count ? 0 : 1);
