/**
 * The uWebSockets.js build choice (docs/platforms.md): the plan for each kind of host, the
 * installed packages against the table the plan reads, and real loading on this host. CI here
 * runs Node 20 on glibc 2.36 only, where v20.30 must load and v20.57 cannot (it needs 2.38).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryCoordinator } from '@gos/coordinator';
import { ErrorCodes, coreProtocol } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { Gateway, MemorySessionStore, loadUws } from '../src/index.js';
import { UWS_BUILDS, compareVersions, currentUwsHost, loadUwsBuild, planUwsBuilds, type UwsHost, type UwsPlan } from '../src/uws-builds.js';

const require = createRequire(import.meta.url);
const here = currentUwsHost();
const hereHasOldGlibc = here.glibc !== null && compareVersions(here.glibc, '2.38') < 0;

function linux(abi: number, glibc: string | null, arch = 'x64'): UwsHost {
  return { platform: 'linux', arch, abi, node: `${{ 115: 20, 120: 21, 127: 22, 137: 24, 141: 25 }[abi] ?? 0}.0.0`, glibc };
}
function other(platform: string, arch: string, abi: number): UwsHost {
  return { platform, arch, abi, node: '0.0.0', glibc: null };
}
/** `build` or `build!` (tried although expected to fail), in order; then the skipped builds. */
function summary(plan: UwsPlan): { tries: string[]; skipped: string[] } {
  return { tries: plan.attempts.map((a) => (a.misfit === null ? a.build.name : `${a.build.name}!`)), skipped: plan.skipped.map((s) => s.build.name) };
}

test('plan: Node 20 tries v20.30 first everywhere; v20.57 second, marked when glibc is older than 2.38', () => {
  assert.deepEqual(summary(planUwsBuilds(linux(115, '2.36'))), { tries: ['v20.30', 'v20.57!'], skipped: [] });
  assert.deepEqual(summary(planUwsBuilds(linux(115, '2.39'))), { tries: ['v20.30', 'v20.57'], skipped: [] });
  assert.deepEqual(summary(planUwsBuilds(linux(115, '2.36', 'arm64'))), { tries: ['v20.30', 'v20.57!'], skipped: [] });
  assert.deepEqual(summary(planUwsBuilds(linux(115, '2.36', 'arm'))), { tries: ['v20.30'], skipped: ['v20.57'] });
  assert.deepEqual(summary(planUwsBuilds(other('darwin', 'arm64', 115))), { tries: ['v20.30', 'v20.57'], skipped: [] });
  assert.deepEqual(summary(planUwsBuilds(other('win32', 'x64', 115))), { tries: ['v20.30', 'v20.57'], skipped: [] });
  const plan = planUwsBuilds(linux(115, '2.36'));
  assert.equal(plan.attempts[0]?.binary, 'uws_linux_x64_115.node');
  assert.equal(plan.attempts[1]?.misfit, 'needs glibc ≥ 2.38; this system has 2.36');
});

test('plan: Node 22, 24 and 25 have only v20.57; on glibc < 2.38 or musl it is still tried, for its own error', () => {
  for (const abi of [127, 137, 141]) {
    assert.deepEqual(summary(planUwsBuilds(linux(abi, '2.39'))), { tries: ['v20.57'], skipped: ['v20.30'] });
    assert.deepEqual(summary(planUwsBuilds(linux(abi, '2.36'))), { tries: ['v20.57!'], skipped: ['v20.30'] });
    assert.deepEqual(summary(planUwsBuilds(other('darwin', 'x64', abi))), { tries: ['v20.57'], skipped: ['v20.30'] });
    assert.deepEqual(summary(planUwsBuilds(other('win32', 'x64', abi))), { tries: ['v20.57'], skipped: ['v20.30'] });
  }
  const musl = planUwsBuilds(linux(127, null));
  assert.equal(musl.attempts[0]?.misfit, "needs glibc ≥ 2.38; this system's C library is not glibc");
  assert.match(musl.skipped[0]?.reason ?? '', /^no binary for Node 22\.0\.0 \(ABI 127\); it has Node 16, Node 18, Node 20$/);
});

test('plan: no build for Node 21/23, Windows on arm64 or 32-bit ARM beyond Node 20; an explicit build is the only one tried', () => {
  assert.deepEqual(summary(planUwsBuilds(linux(120, '2.39'))), { tries: [], skipped: ['v20.30', 'v20.57'] });
  assert.deepEqual(summary(planUwsBuilds(other('win32', 'arm64', 115))), { tries: [], skipped: ['v20.30', 'v20.57'] });
  assert.deepEqual(summary(planUwsBuilds(linux(127, '2.39', 'arm'))), { tries: [], skipped: ['v20.30', 'v20.57'] });
  assert.match(planUwsBuilds(other('win32', 'arm64', 115)).skipped[1]?.reason ?? '', /^no binary for win32-arm64 \(it has linux-x64, linux-arm64, darwin-x64, darwin-arm64, win32-x64\)$/);
  assert.deepEqual(summary(planUwsBuilds(linux(115, '2.36'), 'v20.57')), { tries: ['v20.57!'], skipped: [] });
  assert.deepEqual(summary(planUwsBuilds(linux(127, '2.39'), 'v20.30')), { tries: [], skipped: ['v20.30'] });
});

test('compareVersions orders glibc versions numerically', () => {
  assert.equal(compareVersions('2.36', '2.38'), -1);
  assert.equal(compareVersions('2.4', '2.38'), -1);
  assert.equal(compareVersions('2.38', '2.38'), 0);
  assert.equal(compareVersions('2.38.1', '2.38'), 1);
  assert.equal(compareVersions('2.41', '2.38'), 1);
});

test('the installed packages ship exactly the binaries the table lists (the plan cannot promise a missing one)', () => {
  for (const build of UWS_BUILDS) {
    const dir = path.resolve(path.dirname(require.resolve(build.dependency)), build.binaryDir);
    const shipped = readdirSync(dir).filter((f) => /^uws_.+\.node$/.test(f)).sort();
    const listed = Object.keys(build.targets)
      .flatMap((t) => build.abis.map((abi) => `uws_${t.replace('-', '_')}_${abi}.node`))
      .sort();
    assert.deepEqual(shipped, listed, build.name);
  }
});

test('an unknown build name is an option error; v20.57 asked for on glibc < 2.38 fails with the loader\'s own reason', { skip: hereHasOldGlibc ? false : 'this host has glibc ≥ 2.38 (or none): v20.57 would load' }, () => {
  assert.throws(() => loadUws({ build: 'v21' }), (err: Error & { code?: string }) => err.code === ErrorCodes.OPT_ERR_INVALID && /auto, v20\.30 or v20\.57, got "v21"/.test(err.message));
  assert.throws(
    () => loadUws({ build: 'v20.57' }),
    (err: Error & { code?: string }) =>
      err.code === ErrorCodes.GW_ERR_NATIVE_UWS &&
      err.message.includes(`v20.57: needs glibc ≥ 2.38; this system has ${here.glibc}: `) &&
      /GLIBC_2\.38' not found/.test(err.message) &&
      !err.message.includes('v20.30:'),
  );
});

test('when no build loads the error names every build and why (a Node ABI neither ships)', () => {
  const host = { ...here, abi: 999, node: '99.0.0' };
  const result = loadUwsBuild(host, planUwsBuilds(host));
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(
    result.failures.map((f) => f.build),
    ['v20.30', 'v20.57'],
  );
  assert.match(result.message, /^no uWebSockets\.js native binary loads for Node 99\.0\.0 \(ABI 999\) on /);
  assert.match(result.message, /v20\.30: no binary for Node 99\.0\.0 \(ABI 999\); it has Node 16, Node 18, Node 20; v20\.57: no binary for Node 99\.0\.0 \(ABI 999\); it has Node 20, Node 22, Node 24, Node 25\)/);
  assert.match(result.message, /docs\/platforms\.md/);
});

test('on this host the first fitting build loads natively, not the JS fallback (v20.30 on Node 20 with glibc < 2.38, as on CI here)', () => {
  const plan = planUwsBuilds(here);
  const expected = plan.attempts.find((a) => a.misfit === null)?.build.name;
  assert.notEqual(expected, undefined, `no build fits ${JSON.stringify(here)}`);
  if (here.platform === 'linux' && here.abi === 115 && hereHasOldGlibc) assert.equal(expected, 'v20.30');
  const loaded = loadUws();
  assert.equal(loaded.build, expected);
  assert.equal(path.basename(loaded.binary), `uws_${here.platform}_${here.arch}_${here.abi}.node`);
  // The module handed out is the native binary itself, and v20.30's JS fallback was never loaded.
  assert.equal(loaded.uWS, require(loaded.binary));
  assert.equal(typeof loaded.uWS.App, 'function');
  assert.equal(Object.keys(require.cache).filter((k) => k.endsWith(path.join('dist', 'index.js')) && k.includes('uWebSockets.js')).length, 0);
  // Loaded once per thread: asking again (or for the same build) gives the same; another build is refused.
  assert.equal(loadUws(), loaded);
  assert.equal(loadUws({ build: loaded.build }), loaded);
  const otherBuild = loaded.build === 'v20.30' ? 'v20.57' : 'v20.30';
  assert.throws(() => loadUws({ build: otherBuild }), (err: Error & { code?: string }) => err.code === ErrorCodes.GW_ERR_NATIVE_UWS && err.message.includes('already loaded'));
});

test('a starting gateway logs which uWebSockets.js build it runs on', async () => {
  const chunks: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
  );
  const coordinator = new MemoryCoordinator();
  const store = new SqliteStore({ file: ':memory:' });
  const sessions = new MemorySessionStore();
  await store.start();
  await sessions.start();
  const gateway = new Gateway({ clusterSecret: 'uws-builds-test-secret', coordinator, store, sessions, protocol: coreProtocol, port: 0, gatewayId: 'gw-uws', logger });
  try {
    await gateway.start();
    const res = await fetch(`${gateway.httpUrl}/healthz`);
    assert.equal(res.status, 200);
  } finally {
    await gateway.close();
    await sessions.close();
    await store.close();
    await coordinator.close();
  }
  const lines = chunks
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { msg: string; uws?: { build: string; package: string; binary: string } });
  const listening = lines.find((l) => l.msg === 'gateway listening');
  assert.ok(listening?.uws, JSON.stringify(lines));
  const loaded = loadUws();
  assert.deepEqual(listening.uws, { build: loaded.build, package: loaded.package, binary: loaded.binary });
});
