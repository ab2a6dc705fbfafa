/**
 * CPU time and memory of a process tree, read from /proc (Linux). Threads (scene workers, libuv
 * pools) are included in their process's figures; every descendant process is found through
 * its parent pid, so a gateway that spawned an engine counts both.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;
let pageBytes: number | undefined;

function getconf(name: string, fallback: number): number {
  try {
    const v = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isInteger(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ). */
export function clockTicksPerSecond(): number {
  return (clockTicks ??= getconf('CLK_TCK', 100));
}

export function pageSize(): number {
  return (pageBytes ??= getconf('PAGESIZE', 4096));
}

export interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, in clock ticks. */
  readonly cpuTicks: number;
  readonly rssBytes: number;
}

/**
 * Parse /proc/<pid>/stat. The command name (field 2) is in parentheses and may hold spaces or
 * parentheses itself, so fields are counted from the last ')'.
 */
export function parseStat(text: string, pid: number): Omit<ProcStat, 'rssBytes'> & { rssPages: number } {
  const close = text.lastIndexOf(')');
  if (close === -1) throw new Error(`unexpected /proc/${pid}/stat: ${text.slice(0, 80)}`);
  // After ')': state(3) ppid(4) … utime(14) stime(15) … rss(24); index 0 here is field 3.
  const f = text.slice(close + 2).split(' ');
  const num = (field: number): number => Number(f[field - 3]);
  return { pid, ppid: num(4), cpuTicks: num(14) + num(15), rssPages: num(24) };
}

function readStat(pid: number): ProcStat | null {
  try {
    const s = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), pid);
    return { pid, ppid: s.ppid, cpuTicks: s.cpuTicks, rssBytes: s.rssPages * pageSize() };
  } catch {
    return null; // exited meanwhile
  }
}

/** Every live process in the trees rooted at `roots` (the roots included). */
export function processTree(roots: readonly number[]): ProcStat[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s !== null) all.push(s);
  }
  return selectTree(all, roots);
}

/** The processes of `all` that are in a tree rooted at one of `roots`. */
export function selectTree(all: readonly ProcStat[], roots: readonly number[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  const byPid = new Map<number, ProcStat>();
  for (const s of all) {
    byPid.set(s.pid, s);
    const list = children.get(s.ppid);
    if (list === undefined) children.set(s.ppid, [s]);
    else list.push(s);
  }
  const out: ProcStat[] = [];
  const seen = new Set<number>();
  const stack = roots.filter((r) => byPid.has(r));
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(byPid.get(pid)!);
    for (const c of children.get(pid) ?? []) stack.push(c.pid);
  }
  return out;
}

/** One process of a {@link TreeSample}. */
export interface ProcessSample {
  readonly pid: number;
  /** Its script's file name without extension (`project-engine`), else its program's (`node`). */
  readonly name: string;
  /** CPU time, seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

export interface TreeSample {
  readonly at: number;
  readonly pids: readonly number[];
  /** Summed CPU time, seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
  /** Each process of the tree, root first. */
  readonly processes: readonly ProcessSample[];
}

/**
 * A process's name for reports, from its command line: the last argument that names a script
 * (`…/servers/project-engine.js` → `project-engine`), else the program (`node`).
 */
export function processName(argv: readonly string[]): string {
  const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
  for (let i = argv.length - 1; i > 0; i--) {
    const m = /^(.+)\.(?:c|m)?[jt]s$/.exec(base(argv[i]!));
    if (m !== null && !argv[i]!.startsWith('-')) return m[1]!;
  }
  return argv.length > 0 ? base(argv[0]!) : '?';
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return []; // exited meanwhile
  }
}

export function sampleTree(roots: readonly number[]): TreeSample {
  const tree = processTree(roots);
  let ticks = 0;
  let rss = 0;
  const hz = clockTicksPerSecond();
  const processes: ProcessSample[] = [];
  for (const s of tree) {
    ticks += s.cpuTicks;
    rss += s.rssBytes;
    processes.push({ pid: s.pid, name: processName(commandLine(s.pid)), cpuSeconds: s.cpuTicks / hz, rssBytes: s.rssBytes });
  }
  return { at: performance.now(), pids: tree.map((s) => s.pid), cpuSeconds: ticks / hz, rssBytes: rss, processes };
}

/**
 * CPU use between two samples, in percent of one core (200 = two cores busy). Processes that
 * exited in between are not counted; the bench keeps its servers alive through the window.
 */
export function cpuPercent(a: TreeSample, b: TreeSample): number {
  const wallSeconds = (b.at - a.at) / 1000;
  if (wallSeconds <= 0) return 0;
  return (100 * (b.cpuSeconds - a.cpuSeconds)) / wallSeconds;
}
