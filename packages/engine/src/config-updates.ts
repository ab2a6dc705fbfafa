/**
 * Hot reload of config data, the engine main thread's part (docs/config-data.md): the latest
 * bundle published to the store (`npm run config -- <dir> --publish`) is read at start and then
 * looked for every `configPollMs`; a new one is checked (JSON, format 1, the server side, tables
 * and globals) and offered once to every worker thread (a BroadcastChannel), whose scenes switch
 * at their next tick. A bad bundle is refused (logged once) and the one in force stays.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@gos/schema';
import type { ConfigBundleStore, PublishedConfig } from '@gos/store';
import type { ConfigMessage, ConfigOffer } from './config-records.js';

export class ConfigUpdates {
  /** Named in every scene's task input. */
  readonly channelName: string;
  readonly #channel: BroadcastChannel;
  readonly #store: ConfigBundleStore;
  readonly #log: Logger;
  readonly #pollMs: number;
  #current: ConfigOffer | null = null;
  /** The seq last looked at (in force or refused): not read again. */
  #seen = 0;
  #timer: NodeJS.Timeout | null = null;
  #polling = false;

  constructor(store: ConfigBundleStore, engineId: string, pollMs: number, logger: Logger) {
    this.#store = store;
    this.#pollMs = pollMs;
    this.#log = logger;
    this.channelName = `gos-config:${engineId}:${randomBytes(6).toString('hex')}`;
    this.#channel = new BroadcastChannel(this.channelName);
    this.#channel.unref();
  }

  /** The bundle in force, for a scene starting now. */
  get current(): ConfigOffer | null {
    return this.#current;
  }

  /** Read the latest bundle (a store that cannot be read is logged; the polls go on), then poll. */
  async start(): Promise<void> {
    await this.poll();
    this.#timer = setInterval(() => void this.poll(), this.#pollMs);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#channel.close();
  }

  /** Look for a newer bundle now. Never rejects. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const seq = await this.#store.latestSeq();
      if (seq <= this.#seen) return;
      const latest = await this.#store.latest();
      if (latest === null || latest.seq <= this.#seen) return;
      this.#seen = latest.seq;
      const bundle = check(latest);
      if (typeof bundle === 'string') {
        this.#log.error({ seq: latest.seq, version: latest.version, problem: bundle, inForce: this.#current?.version ?? null }, 'config bundle refused; the one in force stays');
        return;
      }
      this.#current = Object.freeze({ seq: latest.seq, version: latest.version, bundle });
      this.#channel.postMessage({ type: 'config', ...this.#current } satisfies ConfigMessage);
      this.#log.info({ seq: latest.seq, version: latest.version }, 'config bundle in force');
    } catch (err) {
      this.#log.warn({ err }, 'cannot read the published config; trying again');
    } finally {
      this.#polling = false;
    }
  }
}

/** The bundle, or what is wrong with it. */
function check(p: PublishedConfig): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(p.content);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const b = value as Record<string, unknown>;
  if (b['format'] !== 1) return `format ${JSON.stringify(b['format'])}, this engine reads format 1`;
  if (b['side'] !== 'server') return `the ${JSON.stringify(b['side'])} side's bundle, not the server's`;
  if (b['version'] !== p.version) return `its version ${JSON.stringify(b['version'])} is not the one it was published as (${p.version})`;
  const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(b['tables']) || !isObject(b['globals'])) return 'no tables or globals';
  for (const [name, rows] of Object.entries(b['tables'] as Record<string, unknown>)) if (!Array.isArray(rows)) return `table ${name} is not a list of rows`;
  return b;
}
