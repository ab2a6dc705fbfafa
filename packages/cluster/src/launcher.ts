/**
 * Start role processes (the bin entries) as children, follow their logs and readiness, and
 * stop them: what `npm run cluster` and the process tests use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Role } from './config.js';

const bin = (name: string): string => fileURLToPath(new URL(`../bin/${name}.js`, import.meta.url));

/** The compiled process entries: one per role, and the status command. */
export const BIN_ENTRY: Readonly<Record<Role | 'member' | 'status', string>> = Object.freeze({
  gateway: bin('gateway'),
  engine: bin('engine'),
  coordinator: bin('coordinator'),
  'gateway+engine': bin('gateway-engine'),
  member: bin('member'),
  status: bin('status'),
});

/**
 * V8 flags of every process the framework starts (role processes, `npm start`, the bench's
 * servers): the main thread's semi-spaces bounded to 2 MB, as the engine bounds its scene
 * threads' (`workerYoungGenerationMb`). Left to itself V8 grows a busy thread's semi-spaces to
 * 16 MB each and keeps the pages, so memory climbs for tens of minutes under a steady load with
 * nothing leaked (docs/memory.md). `package.json`'s `start` script spells the same flag.
 */
export const NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=2']);

/** One pino line, as the role processes write them. */
export interface LogLine {
  readonly level: number;
  readonly time: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface MemberProcessOptions {
  readonly role: Role;
  readonly id: string;
  readonly config: string;
  /** Extra environment (e.g. `GOS_GATEWAY_PORT`), over this process's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** Start `gos-member` (bin/member.js), which takes its role from `GOS_ROLE` or the config, rather than the role's entry. @default false */
  readonly viaMember?: boolean;
  /** Every log line the child writes (JSON lines parsed; anything else as `{ msg }`). */
  readonly onLog?: (line: LogLine, raw: string) => void;
}

/** A role process started from its bin entry. */
export class MemberProcess {
  readonly role: Role;
  readonly id: string;
  readonly child: ChildProcess;
  /** Resolves with the ready line's fields; rejects if the process exits first. */
  readonly ready: Promise<LogLine>;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;
  readonly #stderr: string[] = [];
  #stopRequested = false;

  constructor(o: MemberProcessOptions) {
    this.role = o.role;
    this.id = o.id;
    this.child = spawn(process.execPath, [...NODE_FLAGS, o.viaMember === true ? BIN_ENTRY.member : BIN_ENTRY[o.role], '--config', o.config, '--id', o.id], {
      // Readiness and onLog come from the JSON lines, whatever LOG_FORMAT the caller has.
      env: { ...process.env, ...o.env, LOG_FORMAT: 'json' },
      // The IPC channel carries nothing: it closes when this process ends, however it ends (a
      // SIGKILL too), and the member then stops as on SIGTERM rather than run on orphaned
      // (runRole). Unreferenced here, so it never keeps this process alive either.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.channel?.unref();
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
    this.ready = new Promise((resolve, reject) => {
      const onLine = (raw: string): void => {
        let line: LogLine;
        try {
          line = JSON.parse(raw) as LogLine;
        } catch {
          line = { level: 30, time: Date.now(), msg: raw };
        }
        if (line.msg === `${o.role} ready`) resolve(line);
        o.onLog?.(line, raw);
      };
      createInterface({ input: this.child.stdout! }).on('line', onLine);
      createInterface({ input: this.child.stderr! }).on('line', (raw) => {
        if (this.#stderr.length < 50) this.#stderr.push(raw);
        onLine(raw);
      });
      void this.exited.then((how) => reject(new Error(`${o.id} exited (${how}) before it was ready${this.#stderr.length === 0 ? '' : `: ${this.#stderr.join('\n')}`}`)));
    });
    this.ready.catch(() => {}); // observed by whoever awaits it; an early exit is also in `exited`
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Whether this side asked it to stop (`stop()`, or SIGTERM/SIGINT by `signal()`): its exit is no crash. A SIGKILL by `signal()` is a simulated crash. */
  get stopRequested(): boolean {
    return this.#stopRequested;
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    if (sig === 'SIGTERM' || sig === 'SIGINT') this.#stopRequested = true;
    this.child.kill(sig);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves once it has exited. */
  async stop(timeoutMs = 25_000): Promise<number | string> {
    if (!this.running) return this.exited;
    this.#stopRequested = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'role', 'id', 'pid', 'hostname']);

/** `12:00:01.234 INFO  [gateway-1] gateway ready http=… ws=…` */
export function formatLogLine(id: string, line: LogLine): string {
  const t = new Date(line.time).toISOString().slice(11, 23);
  const extras = Object.entries(line)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : k === 'err' && typeof v === 'object' && v !== null && 'message' in v ? String(v.message) : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${(LEVELS[line.level] ?? String(line.level)).padEnd(5)} [${id}] ${line.msg}${extras === '' ? '' : ` ${extras}`}`;
}
