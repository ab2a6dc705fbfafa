import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { waitFor } from '@gos/testing';
import { cpuPercent, parseStat, processName, processTree, sampleTree, selectTree, type ProcStat } from '../src/proc.js';

test('parseStat counts fields from the last parenthesis (command names may hold spaces and parens)', () => {
  // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime … rss(24)
  const rest = ['S', '42', '0', '0', '0', '0', '0', '0', '0', '0', '0', '150', '50', '0', '0', '20', '0', '1', '0', '100', '1000', '321'];
  const s = parseStat(`7 (we ird) (name)) ${rest.join(' ')}`, 7);
  assert.equal(s.ppid, 42);
  assert.equal(s.cpuTicks, 200);
  assert.equal(s.rssPages, 321);
});

test('selectTree follows parent pids from the roots only', () => {
  const p = (pid: number, ppid: number): ProcStat => ({ pid, ppid, cpuTicks: 1, rssBytes: 1 });
  const all = [p(1, 0), p(10, 1), p(11, 10), p(12, 10), p(20, 1), p(21, 20)];
  assert.deepEqual(selectTree(all, [10]).map((s) => s.pid).sort(), [10, 11, 12]);
  assert.deepEqual(selectTree(all, [20, 99]).map((s) => s.pid).sort(), [20, 21]);
});

test('a real process tree: a child that burns CPU shows in its parent\'s tree and in the CPU figure', async () => {
  // The parent spawns a grandchild that is busy until it is killed (below): on a loaded machine
  // it may get the CPU late, and a child that stopped by the clock could be gone by then.
  const script = `
    const { spawn } = require('node:child_process');
    const c = spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' });
    console.log(c.pid);
    c.on('exit', () => process.exit(0));`;
  const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const childPid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  try {
    const a = sampleTree([parent.pid!]);
    assert.ok(a.pids.includes(parent.pid!));
    assert.ok(a.pids.includes(childPid), 'the grandchild is in the tree');
    assert.ok(processTree([parent.pid!]).every((s) => s.rssBytes > 0));
    const b = await waitFor(
      () => {
        const sample = sampleTree([parent.pid!]);
        return sample.cpuSeconds > a.cpuSeconds ? sample : undefined;
      },
      { timeoutMs: 15_000, message: 'the tree\'s CPU time to grow' },
    );
    const pct = cpuPercent(a, b);
    assert.ok(pct > 0 && pct <= 100 * 64, `cpu ${pct}%`);
  } finally {
    parent.kill('SIGKILL');
    try {
      process.kill(childPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

test('cpuPercent of a zero-length window is 0', () => {
  const s = { at: 5, pids: [], cpuSeconds: 1, rssBytes: 0, processes: [] };
  assert.equal(cpuPercent(s, { ...s, cpuSeconds: 2 }), 0);
});

test('processName: the script a process runs, without its extension; else the program', () => {
  assert.equal(processName(['/usr/bin/node', '--max-semi-space-size=2', '/w/bench/dist/bin/servers/project-engine.js']), 'project-engine');
  assert.equal(processName(['node', 'server.mjs', '--port', '3000']), 'server');
  assert.equal(processName(['/usr/bin/node', '-e', 'while(1);']), 'node');
  assert.equal(processName(['/usr/bin/etcd', '--data-dir', 'x']), 'etcd');
  assert.equal(processName([]), '?');
});

test('sampleTree lists each process with its name, CPU time and RSS; they add up to the totals', async () => {
  // A parent that runs a child holding 64 MB: the child's RSS is its own line.
  const script = `
    const { spawn } = require('node:child_process');
    const c = spawn(process.execPath, ['-e', 'globalThis.keep = Buffer.alloc(64 * 1024 * 1024, 1); console.log("held"); setInterval(() => {}, 1000);'], { stdio: ['ignore', 'pipe', 'inherit'] });
    c.stdout.once('data', () => console.log(c.pid));`;
  const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const childPid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  try {
    const sample = sampleTree([parent.pid!]);
    assert.equal(sample.processes[0]?.pid, parent.pid, 'the root first');
    const child = sample.processes.find((p) => p.pid === childPid);
    assert.ok(child !== undefined, 'the child has its line');
    assert.equal(child.name, 'node');
    assert.ok(child.rssBytes > 64 * 1024 * 1024, `child RSS ${child.rssBytes}`);
    assert.equal(sample.processes.reduce((n, p) => n + p.rssBytes, 0), sample.rssBytes);
    assert.ok(Math.abs(sample.processes.reduce((n, p) => n + p.cpuSeconds, 0) - sample.cpuSeconds) < 1e-9);
  } finally {
    parent.kill('SIGKILL');
    try {
      process.kill(childPid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
