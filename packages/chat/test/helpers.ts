import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CodedError, type Logger } from '@gos/schema';
import { waitFor } from '@gos/testing';
import type { ChatBackend, ChatLine, ChatRetention, NewChatLine } from '../src/index.js';

/** How a contract run gets its backends. */
export interface ChatFixture {
  /**
   * A started backend, closed by the test. Backends made by one fixture share their state and
   * fan-out (gateways on one Redis).
   */
  make(): Promise<ChatBackend>;
}

export const uniq = (kind = 'group'): string => `${kind}:${randomBytes(5).toString('hex')}`;

/** A retention that keeps everything a test appends. */
export const KEEP: ChatRetention = { maxLines: 1000, maxAgeMs: 600_000 };

export function said(channel: string, text: string, from = 'p1', name = 'Ann'): NewChatLine {
  return { channel, from, name, text };
}

export function coded(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof CodedError, `expected a CodedError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

export async function withBackends(fixture: ChatFixture, n: number, fn: (...backends: ChatBackend[]) => Promise<void>): Promise<void> {
  const backends: ChatBackend[] = [];
  try {
    for (let i = 0; i < n; i++) backends.push(await fixture.make());
    await fn(...backends);
  } finally {
    await Promise.all(backends.map((b) => b.close()));
  }
}

/** The backend's clock (Redis's, not this process's): the time of a line on a channel of its own. */
export async function backendNow(b: ChatBackend): Promise<number> {
  return (await b.append(said(uniq('clock'), '.'), { maxLines: 1, maxAgeMs: 1000 })).at;
}

/** Wait until the backend's clock reaches `at`. */
export async function untilBackendTime(b: ChatBackend, at: number): Promise<void> {
  await waitFor(async () => (await backendNow(b)) >= at, { message: `the backend's clock to reach ${at}`, intervalMs: 50 });
}

/** Line ids compared as the backends order them. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

export function texts(lines: readonly ChatLine[]): string[] {
  return lines.map((l) => l.text);
}

/** A logger that keeps what is logged at warn and above. */
export function recordingLogger(): { logger: Logger; warnings: Array<{ obj: object; msg: string }> } {
  const warnings: Array<{ obj: object; msg: string }> = [];
  const noop = (): void => {};
  const warn = (a: object | string, msg?: string): void => {
    warnings.push(typeof a === 'string' ? { obj: {}, msg: a } : { obj: a, msg: msg ?? '' });
  };
  const logger: Logger = { trace: noop, debug: noop, info: noop, warn, error: warn, fatal: warn, child: () => logger };
  return { logger, warnings };
}

/** What a subscriber heard, as Buffers (to compare bytes). */
export function recorder(): { heard: Array<{ channel: string; frame: Buffer; isUint8Array: boolean }>; onFrame: (channel: string, frame: Uint8Array) => void } {
  const heard: Array<{ channel: string; frame: Buffer; isUint8Array: boolean }> = [];
  return { heard, onFrame: (channel, frame) => heard.push({ channel, frame: Buffer.from(frame), isUint8Array: frame instanceof Uint8Array }) };
}
