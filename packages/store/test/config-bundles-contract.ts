import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodedError, ErrorCodes } from '@gos/schema';
import { createStore, type PublishedConfig, type Store } from '../src/index.js';
import { coded, uniq, withStore, type StoreFixture } from './contract-helpers.js';

const MiB = 1024 * 1024;

const bad = coded(ErrorCodes.OPT_ERR_INVALID);

/** `OPT_ERR_INVALID` whose message names `what`. */
function invalidNaming(what: RegExp): (err: unknown) => boolean {
  return (err) => {
    bad(err);
    assert.ok(err instanceof CodedError);
    assert.match(err.message, what);
    return true;
  };
}

/** Content of exactly `bytes` bytes of UTF-8 (`bytes` ≥ 8): JSON text of two-byte characters, plus one `x` when odd. */
function contentOfBytes(bytes: number): string {
  const text = `{"s":"${'é'.repeat(Math.floor((bytes - 8) / 2))}${bytes % 2 === 1 ? 'x' : ''}"}`;
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

/** Compared without a diff: a failed comparison of megabytes would print all of them. */
function assertSameBundle(read: PublishedConfig | null, expected: Omit<PublishedConfig, 'publishedAt'>, what: string): void {
  assert.ok(read !== null, `${what}: latest() is null`);
  assert.deepEqual({ seq: read.seq, version: read.version }, { seq: expected.seq, version: expected.version }, what);
  assert.ok(read.content === expected.content, `${what}: content differs (${read.content.length} characters read, ${expected.content.length} published)`);
}

/** A started store on a database nobody has published to (migrated by the store itself). */
async function withFreshStore(fixture: StoreFixture, fn: (store: Store) => Promise<void>): Promise<void> {
  const config = await fixture.freshConfig();
  const store = createStore(config.kind === 'mysql' ? { ...config, autoMigrate: true } : config);
  try {
    await store.start();
    await fn(store);
  } finally {
    await store.close();
  }
}

/** The contract of `Store.configBundles`; run from `runStoreContract` against every store. */
export function runConfigBundleContract(name: string, fixture: StoreFixture): void {
  test(`${name}: config bundles: none published is latestSeq 0 and latest null; refused publishes store nothing`, () =>
    withFreshStore(fixture, async (store) => {
      const bundles = store.configBundles;
      assert.equal(await bundles.latestSeq(), 0);
      assert.equal(await bundles.latest(), null);
      const sql = "'; DROP TABLE config_bundles;--";
      const badVersions: unknown[] = ['', 'with space', ' v1', 'v1\n', 'x'.repeat(65), sql, 'é', 'a/b', 'a:b', "o'brien", 5, null, undefined];
      for (const version of badVersions) await assert.rejects(bundles.publish(version as never, '{}'), invalidNaming(/version/), String(version));
      const badContents: unknown[] = [
        '',
        'x'.repeat(16 * MiB + 1),
        // Bytes, not characters: 8 Mi + 1 characters, 16 MiB + 1 bytes.
        contentOfBytes(16 * MiB + 1),
        '{"s":"\ud800"}',
        'lone \udc00',
        5,
        null,
        undefined,
        { a: 1 },
        Buffer.from('{}'),
      ];
      for (const content of badContents) await assert.rejects(bundles.publish('v1', content as never), invalidNaming(/content/), typeof content === 'string' ? `${content.length} characters` : String(content));
      assert.equal(await bundles.latestSeq(), 0, 'refused publishes stored nothing');
      assert.equal(await bundles.latest(), null);

      const before = Date.now();
      const seq = await bundles.publish('v'.repeat(64), '1');
      assert.ok(Number.isSafeInteger(seq) && seq > 0, `seq ${seq}`);
      assert.equal(await bundles.latestSeq(), seq);
      const latest = await bundles.latest();
      assert.ok(latest !== null);
      assert.deepEqual({ ...latest, publishedAt: 0 }, { seq, version: 'v'.repeat(64), content: '1', publishedAt: 0 }, 'a 64-character version, a 1-byte content');
      assert.ok(latest.publishedAt >= before && latest.publishedAt <= Date.now(), `publishedAt ${latest.publishedAt}`);
    }));

  test(`${name}: a published bundle round-trips exactly (quotes, backslashes, emoji, SQL are data), with its seq and time`, () =>
    withStore(fixture, async (store) => {
      const bundles = store.configBundles;
      const version = `A-z_0.9-${uniq()}`;
      const content = JSON.stringify({
        format: 1,
        version,
        sql: "'; DROP TABLE config_bundles;--",
        quotes: `"'\`\\`,
        backslashes: 'C:\\path\\n\\u0000',
        unicode: 'héllo wörld ✓ 🎮 👩‍👩‍👧 \u2028 \u0000',
        tables: { Item: [{ id: 1, name: "Robert'); DELETE FROM config_bundles; --" }] },
      });
      const raw = `{ "raw" : "kept as given",\n\t"n": [1, 2.50, 1e3] }`;
      const before = Date.now();
      const seq = await bundles.publish(version, content);
      const after = Date.now();
      assert.ok(Number.isSafeInteger(seq) && seq > 0, `seq ${seq}`);
      assert.equal(await bundles.latestSeq(), seq);
      const latest = await bundles.latest();
      assert.ok(latest !== null);
      assert.deepEqual({ ...latest, publishedAt: 0 }, { seq, version, content, publishedAt: 0 });
      assert.ok(Number.isSafeInteger(latest.publishedAt) && latest.publishedAt >= before && latest.publishedAt <= after, `publishedAt ${latest.publishedAt}`);
      const next = await bundles.publish(`${version}-raw`, raw);
      assert.deepEqual((await bundles.latest())?.content, raw, 'whitespace and number spelling kept');
      assert.equal(await bundles.latestSeq(), next);
    }));

  test(`${name}: seqs increase with every publish, republishing an older bundle included; latest is the last published`, () =>
    withStore(fixture, async (store) => {
      const bundles = store.configBundles;
      const start = await bundles.latestSeq();
      const tag = uniq();
      const published: Array<Omit<PublishedConfig, 'publishedAt'>> = [];
      for (const [version, content] of [
        [`a-${tag}`, '{"v":"a"}'],
        [`b-${tag}`, '{"v":"b"}'],
        [`a-${tag}`, '{"v":"a"}'],
        [`a-${tag}`, '{"v":"a"}'],
      ] as const) {
        const seq = await bundles.publish(version, content);
        published.push({ seq, version, content });
        assert.equal(await bundles.latestSeq(), seq);
        assertSameBundle(await bundles.latest(), { seq, version, content }, `after publishing ${version} as ${seq}`);
      }
      const seqs = published.map((p) => p.seq);
      assert.ok(seqs[0]! > start, `the first seq ${seqs[0]} is above the latest before (${start})`);
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!, `seqs increase: ${seqs.join(', ')}`);
      // Concurrent publishes each get their own seq; the latest is one of them, the highest.
      const concurrent = await Promise.all([1, 2, 3, 4, 5].map((i) => bundles.publish(`c${i}-${tag}`, `{"c":${i}}`)));
      assert.equal(new Set(concurrent).size, 5);
      const highest = Math.max(...concurrent);
      assert.ok(concurrent.every((s) => s > seqs[seqs.length - 1]!));
      assert.equal(await bundles.latestSeq(), highest);
      assert.equal((await bundles.latest())?.seq, highest);
    }));

  test(`${name}: a 1 MiB bundle round-trips`, () =>
    withStore(fixture, async (store) => {
      const bundles = store.configBundles;
      const content = contentOfBytes(MiB);
      const version = `big-${uniq()}`;
      const seq = await bundles.publish(version, content);
      assertSameBundle(await bundles.latest(), { seq, version, content }, '1 MiB');
    }));

  test(`${name}: the largest bundle the store takes round-trips; one byte more is refused, stores nothing, and the store keeps working`, () =>
    withStore(fixture, async (store) => {
      const bundles = store.configBundles;
      const largest = await fixture.maxConfigBundleBytes();
      assert.ok(largest > 15 * MiB && largest <= 16 * MiB, `largest ${largest}`);
      const version = `largest-${uniq()}`;
      const content = contentOfBytes(largest);
      const seq = await bundles.publish(version, content);
      assertSameBundle(await bundles.latest(), { seq, version, content }, `${largest} bytes`);
      await assert.rejects(bundles.publish(`${version}-over`, contentOfBytes(largest + 1)), invalidNaming(/content/));
      assert.equal(await bundles.latestSeq(), seq, 'nothing stored');
      const small = await bundles.publish(`${version}-after`, '{}');
      assert.ok(small > seq);
      assert.equal((await bundles.latest())?.content, '{}');
    }));
}
