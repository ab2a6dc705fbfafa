/** What the store's contract suites share: the fixture they run on and their small helpers. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CodedError } from '@gos/schema';
import { createStore, runMigrations, type Store, type StoreConfig } from '../src/index.js';

/** How a contract run gets its stores. */
export interface StoreFixture {
  /** A started store on the suite's (migrated, shared) database. Tests use unique ids. */
  make(): Promise<Store>;
  /** A database nobody has touched (nothing migrated). */
  freshConfig(): Promise<StoreConfig>;
  /** The migrate CLI arguments naming that database. */
  cliArgs(config: StoreConfig): string[];
  /** The largest config bundle the store takes, in bytes of UTF-8 (on MySQL, the server's max_allowed_packet bounds it). */
  maxConfigBundleBytes(): Promise<number>;
}

export const uniq = (): string => randomUUID().slice(0, 8);

export async function withStore(fixture: StoreFixture, fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await fixture.make();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * Run `fn` on a started store of a database of its own (migrated, empty): for what every player
 * of a database sees (mail to everyone) or what counts every row (pruning).
 */
export async function withFreshStore(fixture: StoreFixture, fn: (store: Store) => Promise<void>): Promise<void> {
  const config = await fixture.freshConfig();
  await runMigrations(config);
  const store = createStore(config);
  await store.start();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** An `assert.rejects` check: a CodedError with this code. */
export function coded(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof CodedError, `expected a CodedError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}
