/**
 * Which uWebSockets.js build this process loads (docs/platforms.md).
 *
 * Two republished builds are installed side by side: v20.30 (dependency `uWebSockets.js`,
 * binaries for Node 16/18/20 needing glibc ≥ 2.27) and v20.57 (optional dependency
 * `uWebSockets.js-v20.57`, binaries for Node 20/22/24/25 needing glibc ≥ 2.38). No single one
 * covers every supported Node on every Linux, so the choice is made at start from the running
 * Node ABI, platform, architecture and glibc, and the build is loaded through `createRequire`.
 *
 * This module has no dependency but Node's own, so a bare uWS server (bench/) can use it
 * without loading the framework. The gateway's wrapper with coded errors is `uws.ts`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The uWebSockets.js API; both builds are typed with v20.30's declarations (the API the gateway uses is the same in both). */
export type UwsModule = typeof import('uWebSockets.js');

export const UWS_BUILD_NAMES = ['v20.30', 'v20.57'] as const;
export type UwsBuildName = (typeof UWS_BUILD_NAMES)[number];
/** `auto` chooses from the host; a build name loads that build or nothing. */
export type UwsBuildPreference = UwsBuildName | 'auto';

export interface UwsBuild {
  readonly name: UwsBuildName;
  /** The dependency name in packages/gateway/package.json (an npm alias). */
  readonly dependency: string;
  /** The package the alias installs, checked against its package.json. */
  readonly packageName: string;
  readonly version: string;
  /** Upstream uWebSockets.js release the package republishes. */
  readonly upstream: string;
  /** Folder of the `uws_<platform>_<arch>_<abi>.node` files, relative to the folder of the package's main file. */
  readonly binaryDir: string;
  /** Folder of package.json, relative to the folder of the package's main file. */
  readonly rootDir: string;
  /** Node ABIs (`process.versions.modules`) with a binary. */
  readonly abis: readonly number[];
  /** `<platform>-<arch>` with a binary → the glibc it needs there (null: not Linux). */
  readonly targets: Readonly<Record<string, string | null>>;
}

/** In order of preference: v20.30 first where it has a binary (the build CI tests and the bench measured). */
export const UWS_BUILDS: readonly UwsBuild[] = [
  {
    name: 'v20.30',
    dependency: 'uWebSockets.js',
    packageName: '@trufflesuite/uws-js-unofficial',
    version: '20.30.0-unofficial.0',
    upstream: 'uWebSockets.js v20.30.0',
    binaryDir: '../binaries',
    rootDir: '..',
    abis: [93, 108, 115],
    targets: { 'linux-x64': '2.27', 'linux-arm64': '2.27', 'linux-arm': '2.28', 'darwin-x64': null, 'darwin-arm64': null, 'win32-x64': null },
  },
  {
    name: 'v20.57',
    dependency: 'uWebSockets.js-v20.57',
    packageName: '@btc-vision/uwebsockets.js',
    version: '20.57.0',
    upstream: 'uWebSockets.js v20.57.0',
    binaryDir: '.',
    rootDir: '.',
    abis: [115, 127, 137, 141],
    targets: { 'linux-x64': '2.38', 'linux-arm64': '2.38', 'darwin-x64': null, 'darwin-arm64': null, 'win32-x64': null },
  },
];

/** Node major of each ABI the builds know, for messages. */
const NODE_OF_ABI: Readonly<Record<number, number>> = { 93: 16, 108: 18, 115: 20, 120: 21, 127: 22, 131: 23, 137: 24, 141: 25 };

/** What the choice depends on. */
export interface UwsHost {
  readonly platform: string;
  readonly arch: string;
  /** `process.versions.modules`. */
  readonly abi: number;
  readonly node: string;
  /** The glibc the process runs with; null when not Linux or not glibc (musl). */
  readonly glibc: string | null;
}

export function currentUwsHost(): UwsHost {
  let glibc: string | null = null;
  if (process.platform === 'linux') {
    const report = process.report.getReport() as { header?: { glibcVersionRuntime?: unknown } };
    const v = report.header?.glibcVersionRuntime;
    glibc = typeof v === 'string' ? v : null;
  }
  return { platform: process.platform, arch: process.arch, abi: Number(process.versions.modules), node: process.versions.node, glibc };
}

export function isUwsBuildPreference(value: unknown): value is UwsBuildPreference {
  return value === 'auto' || (UWS_BUILD_NAMES as readonly unknown[]).includes(value);
}

/** -1, 0 or 1 for dotted versions (`2.36` < `2.38`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export interface UwsAttempt {
  readonly build: UwsBuild;
  /** `uws_<platform>_<arch>_<abi>.node`. */
  readonly binary: string;
  /** Why loading is expected to fail (glibc too old or not glibc); null when the host fits. Such a build is still tried, last. */
  readonly misfit: string | null;
}

export interface UwsPlan {
  /** Builds to try, in order: those that fit the host first. */
  readonly attempts: readonly UwsAttempt[];
  /** Builds not tried: no binary for this platform or Node ABI. */
  readonly skipped: ReadonlyArray<{ readonly build: UwsBuild; readonly reason: string }>;
}

function nodeName(abi: number): string {
  const major = NODE_OF_ABI[abi];
  return major === undefined ? `ABI ${abi}` : `Node ${major}`;
}

/** Which builds to try for `host`, in which order, and why the others are not tried. Pure: no loading. */
export function planUwsBuilds(host: UwsHost, preference: UwsBuildPreference = 'auto'): UwsPlan {
  const target = `${host.platform}-${host.arch}`;
  const fitting: UwsAttempt[] = [];
  const misfits: UwsAttempt[] = [];
  const skipped: Array<{ build: UwsBuild; reason: string }> = [];
  for (const build of UWS_BUILDS) {
    if (preference !== 'auto' && build.name !== preference) continue;
    const glibcNeeded = build.targets[target];
    if (glibcNeeded === undefined) {
      skipped.push({ build, reason: `no binary for ${target} (it has ${Object.keys(build.targets).join(', ')})` });
      continue;
    }
    if (!build.abis.includes(host.abi)) {
      skipped.push({ build, reason: `no binary for Node ${host.node} (ABI ${host.abi}); it has ${build.abis.map(nodeName).join(', ')}` });
      continue;
    }
    let misfit: string | null = null;
    if (glibcNeeded !== null) {
      if (host.glibc === null) misfit = `needs glibc ≥ ${glibcNeeded}; this system's C library is not glibc`;
      else if (compareVersions(host.glibc, glibcNeeded) < 0) misfit = `needs glibc ≥ ${glibcNeeded}; this system has ${host.glibc}`;
    }
    (misfit === null ? fitting : misfits).push({ build, binary: `uws_${host.platform}_${host.arch}_${host.abi}.node`, misfit });
  }
  return { attempts: [...fitting, ...misfits], skipped };
}

export interface LoadedUws {
  readonly uWS: UwsModule;
  readonly build: UwsBuildName;
  /** `<package>@<version>` as installed. */
  readonly package: string;
  readonly upstream: string;
  /** Absolute path of the native binary loaded. */
  readonly binary: string;
}

export type UwsLoadResult =
  | { readonly ok: true; readonly loaded: LoadedUws }
  | { readonly ok: false; readonly failures: ReadonlyArray<{ readonly build: UwsBuildName; readonly reason: string }>; readonly message: string };

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? text;
}

/**
 * Try the plan's builds in order. A build counts only when its native binary loads and its
 * package's own loader returns that very binary (not uWS's slow JS fallback, which v20.30 falls
 * back to with a warning when the binary is missing or `UWS_USE_FALLBACK` is set).
 * The binary is loaded first and alone, so a build that cannot load leaves nothing behind.
 * @param requireFrom resolves the dependencies (the gateway package's by default).
 */
export function loadUwsBuild(host: UwsHost, plan: UwsPlan, requireFrom: NodeJS.Require = createRequire(import.meta.url)): UwsLoadResult {
  const failures: Array<{ build: UwsBuildName; reason: string }> = plan.skipped.map((s) => ({ build: s.build.name, reason: s.reason }));
  for (const { build, binary, misfit } of plan.attempts) {
    const fail = (reason: string): void => {
      failures.push({ build: build.name, reason: misfit === null ? reason : `${misfit}: ${reason}` });
    };
    let main: string;
    try {
      main = requireFrom.resolve(build.dependency);
    } catch {
      fail(`${build.dependency} is not installed (it is an optional dependency: run npm install without --omit=optional)`);
      continue;
    }
    const dir = path.dirname(main);
    let installed: string;
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, build.rootDir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      installed = `${String(pkg.name)}@${String(pkg.version)}`;
    } catch (err) {
      fail(`cannot read its package.json: ${firstLine(err)}`);
      continue;
    }
    if (installed !== `${build.packageName}@${build.version}`) {
      fail(`${build.dependency} is ${installed}, expected ${build.packageName}@${build.version}`);
      continue;
    }
    const file = path.resolve(dir, build.binaryDir, binary);
    if (!existsSync(file)) {
      fail(`no ${binary} in ${installed}`);
      continue;
    }
    let native: unknown;
    try {
      native = requireFrom(file);
    } catch (err) {
      fail(firstLine(err));
      continue;
    }
    let exported: unknown;
    try {
      exported = requireFrom(main);
    } catch (err) {
      fail(`its loader failed after the binary loaded: ${firstLine(err)}`);
      continue;
    }
    if (exported !== native || typeof (exported as { App?: unknown }).App !== 'function') {
      fail(`its loader returned uWS's slow JS fallback instead of ${binary} (is UWS_USE_FALLBACK set?)`);
      continue;
    }
    return { ok: true, loaded: { uWS: exported as UwsModule, build: build.name, package: installed, upstream: build.upstream, binary: file } };
  }
  const where = `Node ${host.node} (ABI ${host.abi}) on ${host.platform}-${host.arch}${host.platform === 'linux' ? `, ${host.glibc === null ? 'no glibc' : `glibc ${host.glibc}`}` : ''}`;
  const tried = failures.length === 0 ? 'no build was asked for' : failures.map((f) => `${f.build}: ${f.reason}`).join('; ');
  return {
    ok: false,
    failures,
    message: `no uWebSockets.js native binary loads for ${where} (${tried}); supported: Node 20 (glibc ≥ 2.27), Node 22 and 24 (glibc ≥ 2.38), on Linux x64/arm64, macOS and Windows x64 (docs/platforms.md)`,
  };
}
