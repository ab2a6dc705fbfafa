import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import WebSocket from 'ws';
import { GameClient, login, register } from '@gos/client';
import { waitFor } from '@gos/testing';
import { EmbeddedCluster, type EmbeddedClusterOptions } from '../src/index.js';
import { WORLD_SIZE } from '../src/game.js';
import { createApi, protocol } from '../src/generated/protocol.js';

/** A fresh data folder per test file, removed at the end. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'gos-demo-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Run `fn` on a connection to the test MariaDB server (GOS_TEST_MYSQL_URL) with no database selected. */
export async function mysqlAdmin<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const u = new URL(process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/gos_test');
  u.pathname = '/';
  const c = await mysql.createConnection(u.toString());
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A database of its own on the test MariaDB server, `gos_test_<name>_<random>`: its URL, and `drop()`. */
export async function scratchDatabase(name: string): Promise<{ readonly name: string; readonly url: string; drop(): Promise<void> }> {
  const database = `gos_test_${name}_${Math.random().toString(16).slice(2, 10)}`;
  await mysqlAdmin((c) => c.query(`CREATE DATABASE \`${database}\``));
  const u = new URL(process.env['GOS_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/gos_test');
  u.pathname = `/${database}`;
  return { name: database, url: u.toString(), drop: () => mysqlAdmin((c) => c.query(`DROP DATABASE IF EXISTS \`${database}\``)).then(() => undefined) };
}

/** Whether a process with this pid runs (signal 0: nothing is sent). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * `x` moved `d` towards the middle of a map: players spawn anywhere in 100..900, and the
 * portals stand near the east and west edges (portals.ts), so a test's steps taken this way
 * never walk a player into another map by chance.
 */
export function inward(x: number, d: number): number {
  return x < WORLD_SIZE / 2 ? x + d : x - d;
}

/** The embedded cluster on an ephemeral port, with cheap password hashing for tests. */
export async function startCluster(dbFile: string, extra: Partial<EmbeddedClusterOptions> = {}): Promise<EmbeddedCluster> {
  const cluster = new EmbeddedCluster({ dbFile, port: 0, scryptCost: 1024, persistIntervalMs: 200, ...extra });
  try {
    await cluster.start();
  } catch (err) {
    await cluster.close(); // a half-started cluster would keep the test process alive
    throw err;
  }
  return cluster;
}

let counter = 0;
export function uniqueName(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`.slice(0, 24);
}

export interface Player {
  readonly client: GameClient<typeof protocol>;
  readonly api: ReturnType<typeof createApi>;
  readonly accountId: string;
  readonly username: string;
}

export async function joinAs(baseUrl: string, username: string, password = 'correct-horse-1', registerFirst = true): Promise<Player> {
  if (registerFirst) await register(baseUrl, username, password);
  const auth = await login(baseUrl, username, password);
  const client = new GameClient({ url: auth.gateway, token: auth.token, protocol, WebSocket: WebSocket, reconnect: { enabled: false } });
  await client.connect();
  return { client, api: createApi(client), accountId: auth.accountId, username };
}

/** `npm start` running as a process (see {@link startProcess}). */
export interface StartedProcess {
  readonly child: ChildProcess;
  /** The origin it serves, from its ready line. */
  readonly url: string;
  /** Everything it wrote on stdout so far (its log lines, then the ready line). */
  output(): string;
  readonly exited: Promise<number | null>;
}

/**
 * `npm start` as a user runs it (bin/start.js), on `dataDir` and a free port, with `env` added;
 * resolves once it prints its ready line.
 * @throws when it exits first, or is not ready within 30 s
 */
export async function startProcess(dataDir: string, env: Record<string, string> = {}): Promise<StartedProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/start.js', import.meta.url))], {
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    waitFor(() => /open (http:\/\/[^/\s]+)\//.exec(out)?.[1], { timeoutMs: 30_000, message: 'the ready line of npm start' }),
    exited.then((code) => new Error(`npm start exited with ${code} before it was ready: ${out}`)),
  ]);
  if (ready instanceof Error) throw ready;
  return { child, url: ready, output: () => out, exited };
}
