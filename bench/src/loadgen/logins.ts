/**
 * The login-storm load: password logins over the HTTP API at a fixed offered rate (open loop:
 * a slow server does not slow the offer down), spread over a pool of accounts registered
 * first. Login latency is the HTTP round trip; anything but 200 is a failure, counted by
 * status and error code. The password hash (scrypt, N=16384) is what a login costs.
 */
import { nowMs } from './driver.js';
import type { LoadResult, Phase } from './run.js';
import { LatencyRecorder, round } from '../stats.js';

export interface LoginStormOptions {
  readonly baseUrl: string;
  /** Offered logins per second. */
  readonly rate: number;
  readonly warmupSeconds: number;
  readonly steadySeconds: number;
  /** Accounts registered before the storm and logged into in turn. @default 32 */
  readonly accounts?: number;
  /** Give up on one login after this long (counted as a failure). @default 10000 */
  readonly timeoutMs?: number;
  readonly onPhase?: (phase: Phase, info: { secondsLeft: number; connected: number }) => void;
}

const PASSWORD = 'bench-password-1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function post(url: string, body: unknown, timeoutMs: number): Promise<{ status: number; code: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let code = '';
  try {
    code = String((JSON.parse(text) as { code?: unknown }).code ?? '');
  } catch {
    // not JSON
  }
  return { status: res.status, code };
}

export async function runLoginStorm(o: LoginStormOptions): Promise<LoadResult> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const prefix = `ls${Date.now().toString(36)}`;
  const names = Array.from({ length: o.accounts ?? 32 }, (_, i) => `${prefix}${i}`);
  o.onPhase?.('ramp', { secondsLeft: names.length * 0.1, connected: 0 });
  for (const username of names) {
    const r = await post(`${o.baseUrl}/v1/auth/register`, { username, password: PASSWORD }, 30_000);
    if (r.status !== 200 && r.status !== 201) throw new Error(`register ${username}: HTTP ${r.status} ${r.code}`);
  }

  const latency = new LatencyRecorder();
  let measuring = false;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const failureSamples: string[] = [];
  const byCause = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let next = 0;

  const one = async (): Promise<void> => {
    const counted = measuring;
    if (counted) sent++;
    const t0 = nowMs();
    let cause: string | null = null;
    try {
      const r = await post(`${o.baseUrl}/v1/auth/login`, { username: names[next++ % names.length], password: PASSWORD }, timeoutMs);
      if (r.status !== 200) cause = `HTTP ${r.status} ${r.code}`.trim();
    } catch (err) {
      cause = err instanceof Error && err.name === 'TimeoutError' ? `timeout ${timeoutMs} ms` : `error ${String(err)}`;
    }
    if (!counted) return;
    if (cause === null) {
      ok++;
      latency.record(nowMs() - t0);
    } else {
      failed++;
      byCause.set(cause, (byCause.get(cause) ?? 0) + 1);
      if (failureSamples.length < 5) failureSamples.push(cause);
    }
  };

  // Open loop: one login every 1000/rate ms, whatever the server's pace.
  const t0 = performance.now();
  let issued = 0;
  const clock = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * o.rate) / 1000);
    while (issued < due) {
      issued++;
      const p = one().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 5);

  o.onPhase?.('warmup', { secondsLeft: o.warmupSeconds + o.steadySeconds, connected: names.length });
  await sleep(o.warmupSeconds * 1000);
  measuring = true;
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  o.onPhase?.('steady', { secondsLeft: o.steadySeconds, connected: names.length });
  await sleep(o.steadySeconds * 1000);
  clearInterval(clock);
  // Logins offered in the window are waited for (up to their timeout) before the books close.
  await Promise.all(inFlight);
  const windowSeconds = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  o.onPhase?.('done', { secondsLeft: 0, connected: names.length });
  measuring = false;
  const genCpu = (100 * (cpu.user + cpu.system)) / 1e6 / windowSeconds;
  const summary = latency.summary();
  return {
    clients: o.rate,
    connected: names.length,
    // Refused logins (HTTP errors with their code) are counted as connect failures.
    connectFailures: failed,
    disconnects: 0,
    errorFrames: 0,
    failureSamples: [...byCause].map(([c, n]) => `${n} × ${c}`).slice(0, 5),
    steadySeconds: round(windowSeconds, 2),
    latency: summary,
    serverDelay: { count: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
    // Offered over the window; completed over the window plus the wait for its stragglers,
    // the same span the server's CPU is read over.
    inPerSec: round(sent / o.steadySeconds, 1),
    inBytesPerSec: 0,
    outPerSec: round(ok / windowSeconds, 1),
    outBytesPerSec: 0,
    ticksPerClientPerSec: 0,
    unackedSamples: 0,
    loadGenCpuPercent: round(genCpu, 1),
    loadGenLoopDelayP99Ms: 0,
    loadGenSaturated: genCpu >= 90,
  };
}
