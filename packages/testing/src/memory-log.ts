import { Writable } from 'node:stream';

/** One line a JSON logger (pino) wrote. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/**
 * A stream a JSON logger writes into, for tests that check what was logged:
 * `const log = memoryLog(); const logger = pino({ level: 'debug' }, log.stream);` then
 * `log.lines()` parses every line written so far.
 */
export function memoryLog(): { readonly stream: Writable; lines(): LogLine[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as LogLine),
  };
}
