export { waitFor, type WaitForOptions } from './wait-for.js';
export { memoryLog, type LogLine } from './memory-log.js';
export { seededRandom } from './seeded-random.js';
