/**
 * etcd for the cluster-shape target: use the one at GOS_ETCD_URL (default
 * http://127.0.0.1:2379) when it answers, else start a private one from the Debian
 * `etcd-server` binary in a temporary folder on free ports, pinned with the servers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './orchestrate.js';

export interface EtcdHandle {
  readonly url: string;
  /** Started by us (stop() ends it); false when an existing etcd is used. */
  readonly owned: boolean;
  stop(): Promise<void>;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    return res.ok && ((await res.json()) as { health?: string }).health === 'true';
  } catch {
    return false;
  }
}

export async function ensureEtcd(url: string, pinCpu: number | null): Promise<EtcdHandle> {
  if (await healthy(url)) return { url, owned: false, stop: async () => {} };
  const bin = ['/usr/bin/etcd', '/usr/local/bin/etcd'].find((p) => existsSync(p));
  if (bin === undefined) {
    throw new Error(`no etcd answers at ${url} and no etcd binary is installed: apt install etcd-server, or set GOS_ETCD_URL (the cluster-shape target needs etcd)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'gos-bench-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const own = `http://127.0.0.1:${clientPort}`;
  const args = [
    '--name', 'bench', '--data-dir', dir, '--logger=zap', '--log-level', 'error',
    '--listen-client-urls', own, '--advertise-client-urls', own,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `bench=http://127.0.0.1:${peerPort}`,
  ];
  const child: ChildProcess = pinCpu === null ? spawn(bin, args, { stdio: 'ignore' }) : spawn('taskset', ['-c', String(pinCpu), bin, ...args], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  while (!(await healthy(own))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`private etcd did not become healthy at ${own}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: own,
    owned: true,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
