/**
 * A tiny run of each failover scenario (10 bots, one repeat, a short lease) so they cannot rot:
 * a real cluster of processes on etcd, Redis and MariaDB, a SIGKILL, the result files. Only
 * what must hold whatever the machine's speed: every affected player resumed with its own
 * saved position, nobody else noticed, a new leader took over, the files are complete.
 *
 * Needs etcd, Redis and MariaDB: `npm test` starts them and names them in GOS_TEST_*; without
 * those variables the local defaults are tried, and the tests are skipped when one is missing.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { FailoverResultsFile } from '../src/report/results.js';
import type { MigrateResultsFile } from '../src/migrate.js';
import type { TravelResultsFile } from '../src/travel.js';
import { missingServices, runBench } from './run-bench.js';

const skip = await missingServices();
const SMALL = ['--clients', '10', '--seconds', '10', '--warmup', '1', '--repeats', '1', '--lease-ttl', '2', '--persist-ms', '500'];

test('smoke: engine-kill with 10 bots, one repeat', { timeout: 180_000, skip }, async () => {
  await runBench(['engine-kill', ...SMALL], async (out, stdout) => {
    assert.match(stdout, /bench: N=10: \d+\/\d+ resumed/);
    const file = JSON.parse(await readFile(path.join(out, 'engine-kill.json'), 'utf8')) as FailoverResultsFile;
    assert.equal(file.scenario, 'engine-kill');
    assert.equal(file.settings.persistIntervalMs, 500);
    assert.equal(file.runs.length, 1);
    const r = file.runs[0]!;
    assert.equal(r.connected, 10, `every bot joined: ${JSON.stringify(r.failureSamples)}`);
    assert.deepEqual(r.perScene, [5, 5]);
    assert.deepEqual(Object.values(r.playersPerEngine).sort(), [5, 5], 'one scene on each engine');
    const a = r.affected!;
    assert.equal(a.players, r.playersPerEngine[r.killed], 'the killed engine\'s players are the affected ones');
    assert.equal(a.resumed, a.players, `every affected bot resumed (closed ${a.closed}, waiting ${a.notResumed})`);
    assert.equal(a.unverified, 0, 'each resumed position is one the bot had sent: loaded from a save');
    assert.equal(a.firstAckMs.count, a.players, 'each played on after resuming');
    assert.ok(a.resumeMs.p50Ms > 0 && a.firstAckMs.p50Ms >= a.resumeMs.p50Ms, 'kill → resume → first ack');
    const u = r.unaffected;
    assert.ok(u.before.acked > 0 && u.during.acked > 0, 'the other engine\'s players kept playing');
    for (const w of [u.before, u.during, u.after]) assert.equal(w.closes + w.errors + w.unacked, 0, `unaffected players noticed nothing: ${JSON.stringify(w)}`);
    assert.equal(r.unexpectedResumes, 0);
    assert.match(await readFile(path.join(out, 'engine-kill.md'), 'utf8'), /Data-loss window: the engines' persist interval, 500 ms/);
    assert.equal((await readFile(path.join(out, 'engine-kill.html'), 'utf8')).match(/<svg/g)?.length, 2);
  });
});

test('smoke: leader-kill with 10 bots, one repeat', { timeout: 180_000, skip }, async () => {
  await runBench(['leader-kill', ...SMALL], async (out) => {
    const file = JSON.parse(await readFile(path.join(out, 'leader-kill.json'), 'utf8')) as FailoverResultsFile;
    assert.equal(file.scenario, 'leader-kill');
    assert.equal(file.runs.length, 1);
    const r = file.runs[0]!;
    assert.equal(r.connected, 10, `every bot joined: ${JSON.stringify(r.failureSamples)}`);
    assert.match(r.killed, /^coordinator-\d$/);
    assert.ok(r.newLeader !== null && r.newLeader !== undefined && r.newLeader !== r.killed, `another coordinator leads: ${String(r.newLeader)}`);
    assert.ok((r.newLeaderMs ?? 0) > 0);
    const u = r.unaffected;
    // Everything that tells why a window came out empty: who resumed or joined again, and when the kill came.
    const why = JSON.stringify({ unaffected: u, unexpectedResumes: r.unexpectedResumes, killAtSeconds: r.killAtSeconds, playersPerEngine: r.playersPerEngine, failureSamples: r.failureSamples });
    assert.equal(r.unexpectedResumes, 0, `no player's scene was resumed: ${why}`);
    for (const name of ['before', 'during', 'after'] as const) {
      const w = u[name];
      assert.ok(w.acked > 0, `${name}: moves acknowledged: ${why}`);
      assert.equal(w.closes + w.errors + w.unacked, 0, `${name}: players noticed nothing: ${JSON.stringify(w)}`);
    }
    assert.match(await readFile(path.join(out, 'leader-kill.md'), 'utf8'), /new leader after ms/);
  });
});

test('smoke: travel with 12 clients, both phases', { timeout: 180_000, skip }, async () => {
  await runBench(['travel', '--clients', '12', '--seconds', '4', '--warmup', '3', '--hop-every', '1000'], async (out, stdout) => {
    assert.match(stdout, /bench: same-engine N=12: \d+ travels/);
    const file = JSON.parse(await readFile(path.join(out, 'travel.json'), 'utf8')) as TravelResultsFile;
    assert.equal(file.scenario, 'travel');
    assert.deepEqual(
      file.runs.map((r) => r.scope),
      ['same-engine', 'cross-engine'],
    );
    for (const r of file.runs) {
      assert.ok(r.travels > 0, `${r.scope}: travels happened`);
      assert.equal(r.failedTravels, 0, `${r.scope}: none failed`);
      assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms);
      assert.ok(r.inputs > 0);
      assert.equal(r.lostInputs, 0, `${r.scope}: no input lost`);
      assert.equal(r.duplicatedInputs, 0, `${r.scope}: no input applied twice`);
      assert.equal(Object.keys(r.scenesPerEngine).length, 2, `${r.scope}: scenes on both engines: ${JSON.stringify(r.scenesPerEngine)}`);
    }
    assert.match(await readFile(path.join(out, 'travel.md'), 'utf8'), /\| same-engine \| 12 \|/);
    assert.equal((await readFile(path.join(out, 'travel.html'), 'utf8')).match(/<svg/g)?.length, 1);
  });
});

test('smoke: migrate with 12 players, 2 live moves', { timeout: 180_000, skip }, async () => {
  await runBench(['migrate', '--clients', '12', '--moves', '2', '--move-every', '1000', '--warmup', '2'], async (out, stdout) => {
    assert.match(stdout, /bench: 12 players: 2 moves/);
    const file = JSON.parse(await readFile(path.join(out, 'migrate.json'), 'utf8')) as MigrateResultsFile;
    assert.equal(file.scenario, 'migrate');
    const [r] = file.runs;
    assert.ok(r !== undefined);
    assert.equal(r.moves, 2, 'both moves made');
    assert.equal(r.stallP99ByMoveMs.length, 2);
    assert.deepEqual([r.disconnects, r.errors, r.lostInputs, r.duplicatedInputs], [0, 0, 0, 0]);
    assert.ok(r.inputs > 0 && r.frozenP50Ms > 0 && r.stallMaxMs >= r.stallP99Ms);
    assert.match(await readFile(path.join(out, 'migrate.md'), 'utf8'), /\| 12 \| 2 \|/);
    assert.equal((await readFile(path.join(out, 'migrate.html'), 'utf8')).match(/<svg/g)?.length, 1);
  });
});
