import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { cpuPercent, parseStat, processTree, sampleTree, selectTree, type ProcStat } from '../src/proc.js';

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
  // The parent spawns a busy grandchild; the tree of the parent must include it.
  const script = `
    const { spawn } = require('node:child_process');
    const c = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);'], { stdio: 'ignore' });
    console.log(c.pid);
    c.on('exit', () => process.exit(0));`;
  const parent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const childPid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  try {
    const a = sampleTree([parent.pid!]);
    assert.ok(a.pids.includes(parent.pid!));
    assert.ok(a.pids.includes(childPid), 'the grandchild is in the tree');
    assert.ok(processTree([parent.pid!]).every((s) => s.rssBytes > 0));
    await new Promise((r) => setTimeout(r, 600));
    const b = sampleTree([parent.pid!]);
    assert.ok(b.cpuSeconds > a.cpuSeconds, 'CPU time grew');
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
  const s = { at: 5, pids: [], cpuSeconds: 1, rssBytes: 0 };
  assert.equal(cpuPercent(s, { ...s, cpuSeconds: 2 }), 0);
});
