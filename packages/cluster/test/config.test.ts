import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { isCodedError } from '@gos/schema';
import { loadConfig, memberIdOf } from '../src/index.js';

const dir = await mkdtemp(path.join(tmpdir(), 'gos-config-'));
after(() => rm(dir, { recursive: true, force: true }));

let n = 0;
async function file(yaml: string): Promise<string> {
  const f = path.join(dir, `c${n++}.yaml`);
  await writeFile(f, yaml);
  return f;
}

const MINIMAL = `
cluster: { secret: "0123456789abcdef" }
store: { kind: mysql, url: "mysql://gos:gos@127.0.0.1:3306/gos" }
game: { module: ./game.js, protocol: ./protocol.js }
`;

/** The error `loadConfig` throws, as text. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(isCodedError(err), 'a coded error');
    assert.equal(err.code, 'OPT_ERR_INVALID');
    return err.message;
  }
  assert.fail('expected the config to be refused');
}

test('a minimal file gets the defaults; relative paths resolve against the file', async () => {
  const f = await file(MINIMAL);
  const c = loadConfig({ file: f, env: {} });
  assert.deepEqual(c.etcd, { hosts: ['http://127.0.0.1:2379'], prefix: 'gos/', leaseTtlSeconds: 5, placementTimeoutMs: 10000 });
  assert.deepEqual(c.sessions, { kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: 'gos:' });
  assert.equal(c.game.module, path.join(dir, 'game.js'));
  assert.equal(c.gateway.port, 3000);
  assert.equal(c.gateway.capacity, 20000);
  assert.equal(c.gateway.inputHoldLeadMs, 10);
  assert.equal(c.engine.capacity, 6000);
  assert.equal(c.log.level, 'info');
  assert.equal(c.store.kind === 'mysql' && c.store.autoMigrate, false);
  assert.equal(c.cluster.startTimeoutMs, 30000);
});

test('cluster.startTimeoutMs: set in the file or by GOS_CLUSTER_START_TIMEOUT_MS, a positive integer', async () => {
  const f = await file(MINIMAL.replace('secret: "0123456789abcdef"', 'secret: "0123456789abcdef", startTimeoutMs: 5000'));
  assert.equal(loadConfig({ file: f, env: {} }).cluster.startTimeoutMs, 5000);
  assert.equal(loadConfig({ file: f, env: { GOS_CLUSTER_START_TIMEOUT_MS: '1500' } }).cluster.startTimeoutMs, 1500);
  assert.match(failure(() => loadConfig({ file: f, env: { GOS_CLUSTER_START_TIMEOUT_MS: '0' } })), /cluster\.startTimeoutMs: must be ≥ 1 \(from GOS_CLUSTER_START_TIMEOUT_MS="0"\)/);
  assert.match(failure(() => loadConfig({ file: f, env: { GOS_CLUSTER_START_TIMEOUT_MS: '30s' } })), /cluster\.startTimeoutMs: .*\(from GOS_CLUSTER_START_TIMEOUT_MS="30s"\)/);
});

test('environment variables override the file, with their types', async () => {
  const f = await file(MINIMAL);
  const c = loadConfig({
    file: f,
    cwd: '/srv',
    env: { GOS_GATEWAY_PORT: '3002', GOS_GATEWAY_ID: 'gateway-2', GOS_ETCD_HOSTS: 'http://10.0.0.1:2379, http://10.0.0.2:2379', GOS_GAME_MODULE: 'game/other.js', GOS_LOG_LEVEL: 'debug', GOS_GATEWAY_INPUT_HOLD_LEAD_MS: '0' },
  });
  assert.equal(c.gateway.port, 3002);
  assert.equal(c.gateway.inputHoldLeadMs, 0, 'holding turned off');
  assert.equal(memberIdOf(c, 'gateway'), 'gateway-2');
  assert.deepEqual(c.etcd.hosts, ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
  assert.equal(c.game.module, '/srv/game/other.js');
  assert.equal(c.log.level, 'debug');
});

test('GOS_MYSQL_URL and GOS_REDIS_URL switch the store and sessions to those backends', async () => {
  const f = await file(`${MINIMAL.replace('kind: mysql, url: "mysql://gos:gos@127.0.0.1:3306/gos"', 'kind: sqlite, file: ./gos.db')}\nsessions: { kind: memory }\n`);
  assert.equal(loadConfig({ file: f, env: {} }).store.kind, 'sqlite');
  const c = loadConfig({ file: f, env: { GOS_MYSQL_URL: 'mysql://root@db:3306/gos', GOS_REDIS_URL: 'redis://cache:6379' } });
  assert.deepEqual(c.store, { kind: 'mysql', url: 'mysql://root@db:3306/gos', autoMigrate: false });
  assert.deepEqual(c.sessions, { kind: 'redis', url: 'redis://cache:6379', keyPrefix: 'gos:' });
});

test('leaderboards: absent they follow the sessions; redis or memory may be given; anything else is refused', async () => {
  assert.equal(loadConfig({ file: await file(MINIMAL), env: {} }).leaderboards, undefined, 'absent: the launcher uses the sessions\' backend');
  const redis = loadConfig({ file: await file(`${MINIMAL}leaderboards: { kind: redis, url: "redis://boards:6380", keyPrefix: "lb1:" }\n`), env: {} });
  assert.deepEqual(redis.leaderboards, { kind: 'redis', url: 'redis://boards:6380', keyPrefix: 'lb1:' });
  assert.deepEqual(loadConfig({ file: await file(`${MINIMAL}leaderboards: { kind: memory }\n`), env: {} }).leaderboards, { kind: 'memory' });
  const bad = await file(`${MINIMAL}leaderboards: { kind: sqlite }\n`);
  assert.match(failure(() => loadConfig({ file: bad, env: {} })), /leaderboards.*kind: 'redis'/s);
  const badUrl = await file(`${MINIMAL}leaderboards: { kind: redis, url: "http://x" }\n`);
  assert.match(failure(() => loadConfig({ file: badUrl, env: {} })), /leaderboards\.url/);
});

test('chat: absent it follows the sessions; redis, memory or none; its moderation module is a path relative to the file', async () => {
  assert.equal(loadConfig({ file: await file(MINIMAL), env: {} }).chat, undefined);
  const f = await file(`${MINIMAL}chat: { kind: redis, url: "redis://chat:6380", keyPrefix: "c1:", maxLength: 120, moderate: hooks/moderate.js }\n`);
  assert.deepEqual(loadConfig({ file: f, env: {} }).chat, { kind: 'redis', url: 'redis://chat:6380', keyPrefix: 'c1:', maxLength: 120, moderate: path.join(path.dirname(f), 'hooks/moderate.js') });
  assert.deepEqual(loadConfig({ file: await file(`${MINIMAL}chat: { kind: none }\n`), env: {} }).chat, { kind: 'none' });
  assert.deepEqual(loadConfig({ file: await file(`${MINIMAL}chat: { kind: memory }\n`), env: {} }).chat, { kind: 'memory' });
  const irc = await file(`${MINIMAL}chat: { kind: irc }\n`);
  assert.match(failure(() => loadConfig({ file: irc, env: {} })), /chat.*kind: 'redis'/s);
  const long = await file(`${MINIMAL}chat: { kind: memory, maxLength: 5000 }\n`);
  assert.match(failure(() => loadConfig({ file: long, env: {} })), /chat\.maxLength/);
});

test('TLS: gateway.tls and cluster.tls hold file paths (relative to the file, or from GOS_* variables)', async () => {
  const f = await file(`${MINIMAL.replace('secret: "0123456789abcdef"', 'secret: "0123456789abcdef", tls: { caFile: certs/ca.pem, certFile: certs/node.pem, keyFile: certs/node.key }')}
gateway: { tls: { certFile: certs/gw.pem, keyFile: certs/gw.key, passphrase: pw } }
`);
  const c = loadConfig({ file: f, env: {} });
  assert.deepEqual(c.cluster.tls, { caFile: path.join(dir, 'certs/ca.pem'), certFile: path.join(dir, 'certs/node.pem'), keyFile: path.join(dir, 'certs/node.key') });
  assert.deepEqual(c.gateway.tls, { certFile: path.join(dir, 'certs/gw.pem'), keyFile: path.join(dir, 'certs/gw.key'), passphrase: 'pw' });
  assert.equal(loadConfig({ file: await file(MINIMAL), env: {} }).gateway.tls, undefined);
  // Each process its own certificate, from the environment.
  const fromEnv = loadConfig({
    file: await file(MINIMAL),
    cwd: '/etc/gos',
    env: { GOS_GATEWAY_TLS_CERT_FILE: 'gw.pem', GOS_GATEWAY_TLS_KEY_FILE: '/keys/gw.key', GOS_CLUSTER_TLS_CA_FILE: 'ca.pem', GOS_CLUSTER_TLS_CERT_FILE: 'n.pem', GOS_CLUSTER_TLS_KEY_FILE: 'n.key', GOS_CLUSTER_TLS_PASSPHRASE: 'x' },
  });
  assert.deepEqual(fromEnv.gateway.tls, { certFile: '/etc/gos/gw.pem', keyFile: '/keys/gw.key' });
  assert.deepEqual(fromEnv.cluster.tls, { caFile: '/etc/gos/ca.pem', certFile: '/etc/gos/n.pem', keyFile: '/etc/gos/n.key', passphrase: 'x' });
  const half = failure(() => loadConfig({ file: null, env: { GOS_CLUSTER_SECRET: '0123456789abcdef', GOS_MYSQL_URL: 'mysql://gos@db/gos', GOS_GAME_MODULE: 'g.js', GOS_GAME_PROTOCOL: 'p.js', GOS_GATEWAY_TLS_CERT_FILE: 'gw.pem', GOS_CLUSTER_TLS_CA_FILE: 'ca.pem' } }));
  assert.match(half, /gateway\.tls\.keyFile: is required: the key of certFile/);
  assert.match(half, /cluster\.tls\.certFile: is required/);
});

test('every problem is reported at once, with its key and the variable it came from', async () => {
  const f = await file(`
cluster: { secret: short }
store: { kind: mysql, url: "http://not-mysql" }
game: { module: ./game.js }
gateway: { prot: 3000 }
engine: { workers: 0 }
`);
  const msg = failure(() => loadConfig({ file: f, env: { GOS_ENGINE_PORT: 'eighty', GOS_LOG_LEVEL: 'loud' } }));
  assert.match(msg, new RegExp(`invalid ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(msg, /cluster\.secret: must be at least 16 characters/);
  assert.match(msg, /store\.url: must be a URL \(mysql:\/\/…\)/);
  assert.match(msg, /game\.protocol: is required: the generated protocol module/);
  assert.match(msg, /gateway: unknown key prot/);
  assert.match(msg, /engine\.workers: must be ≥ 1/);
  assert.match(msg, /engine\.port: .* \(from GOS_ENGINE_PORT="eighty"\)/);
  assert.match(msg, /log\.level: .* \(from GOS_LOG_LEVEL="loud"\)/);
});

test('a missing file, bad YAML, a missing section and a missing member id are clear errors', async () => {
  assert.match(failure(() => loadConfig({ file: path.join(dir, 'nope.yaml'), env: {} })), /cannot read config file .*nope\.yaml: ENOENT/);
  const bad = await file('cluster: [unclosed\n');
  assert.match(failure(() => loadConfig({ file: bad, env: {} })), /is not valid YAML/);
  const list = await file('- a\n- b\n');
  assert.match(failure(() => loadConfig({ file: list, env: {} })), /must hold a mapping of sections/);
  const noGame = await file('cluster: { secret: "0123456789abcdef" }\nstore: { kind: sqlite, file: x.db }\n');
  assert.match(failure(() => loadConfig({ file: noGame, env: {} })), /game: is required: a section naming the game module/);
  const c = loadConfig({ file: await file(MINIMAL), env: {} });
  assert.match(failure(() => memberIdOf(c, 'engine')), /engine\.id is required to run as engine \(set it in the file or GOS_ENGINE_ID\)/);
});

test('the environment alone is a whole configuration', () => {
  const c = loadConfig({
    file: null,
    cwd: '/app',
    env: { GOS_CLUSTER_SECRET: '0123456789abcdef', GOS_MYSQL_URL: 'mysql://gos@db/gos', GOS_GAME_MODULE: 'g.js', GOS_GAME_PROTOCOL: 'p.js', GOS_COORDINATOR_ID: 'coordinator-1' },
  });
  assert.equal(memberIdOf(c, 'coordinator'), 'coordinator-1');
  assert.equal(c.game.protocol, '/app/p.js');
});

test('docs/cluster.md lists every environment override', async () => {
  const { readFile } = await import('node:fs/promises');
  const { ENV_OVERRIDES } = await import('../src/index.js');
  const doc = await readFile(new URL('../../../../docs/cluster.md', import.meta.url), 'utf8');
  for (const { name, path: key } of ENV_OVERRIDES) assert.match(doc, new RegExp(`\\| \`${name}\` \\| \`${key.replace('.', '\\.')}\``), `${name} → ${key} documented`);
});
