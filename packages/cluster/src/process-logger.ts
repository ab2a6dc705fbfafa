/**
 * The pino logger of a process entry (`npm start`, each cluster role): JSON lines for machines,
 * or one coloured line per event when a person is watching a terminal.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';
import { CodedError, ErrorCodes } from '@gos/schema';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * `logFormat` (the entry's `LOG_FORMAT`) when set; otherwise pretty on a terminal and JSON
 * anywhere else (a pipe, a file, `npm run cluster`'s children, a log collector).
 * @throws CodedError `OPT_ERR_INVALID` when `logFormat` is neither `json` nor `pretty`.
 */
export function chooseLogFormat(o: { readonly isTTY: boolean; readonly logFormat?: string | undefined }): LogFormat {
  if (o.logFormat === undefined || o.logFormat === '') return o.isTTY ? 'pretty' : 'json';
  const format = LOG_FORMATS.find((f) => f === o.logFormat);
  if (format === undefined) throw new CodedError(ErrorCodes.OPT_ERR_INVALID, `LOG_FORMAT must be ${LOG_FORMATS.join(' or ')}, got "${o.logFormat}"`);
  return format;
}

export interface ProcessLoggerOptions {
  readonly level: string;
  readonly format: LogFormat;
  /** Colours in the pretty format (a terminal that shows them). @default false */
  readonly colorize?: boolean;
  /** Fields on every line; with an `id`, pretty lines start with `[id]`. @default pino's { pid, hostname } */
  readonly base?: Readonly<Record<string, unknown>>;
}

/** A pino logger writing to stdout as `format` says (JSON synchronously); pretty goes through pino's transport (pino-pretty on a worker thread). */
export function createProcessLogger(o: ProcessLoggerOptions): Logger {
  const options: LoggerOptions = { level: o.level, ...(o.base === undefined ? {} : { base: { ...o.base } }) };
  // Synchronous: a line is on stdout when the call returns, so it comes before anything the
  // entry writes next (the banner of `npm start`) and is not lost in a terminal's output queue
  // when Ctrl-C flushes it, nor by an exit. pino's default stream writes asynchronously.
  if (o.format === 'json') return pino(options, pino.destination({ dest: 1, sync: true }));
  const hasId = typeof o.base?.['id'] === 'string';
  return pino({
    ...options,
    transport: {
      target: 'pino-pretty',
      options: {
        colorize: o.colorize ?? false,
        // Written when the worker has it, so that logger.flush() means on the terminal.
        sync: true,
        singleLine: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: hasId ? 'pid,hostname,role,id' : 'pid,hostname',
        ...(hasId ? { messageFormat: '[{id}] {msg}' } : {}),
      },
    },
  });
}
