import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryCoordinator, type Coordinator, type MemberInfo } from '@gos/coordinator';
import { CodedError, ErrorCodes, coreProtocol, silentLogger } from '@gos/schema';
import { SqliteStore } from '@gos/store';
import { Gateway, MemorySessionStore, RedisSessionStore, type SessionStore } from '../src/index.js';
import { chooseGateways } from '../src/gateway-choice.js';

const redisUrl = process.env['GOS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** Every Redis key of this run lives under this prefix; `after` deletes them. */
const runPrefix = `gos-test-groups:${process.pid}-${randomBytes(4).toString('hex')}:`;

after(async () => {
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${runPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== '0');
  } finally {
    await admin.quit();
  }
});

/**
 * The memory coordinator, with gateway loads the test sets: a gateway's real load is its
 * connected sockets, which a login test has none of.
 */
function withLoads(inner: MemoryCoordinator, loads: Map<string, number>): Coordinator {
  const m = inner.membership;
  const adjust = (g: MemberInfo): MemberInfo => {
    const load = loads.get(g.id);
    return load === undefined ? g : { ...g, load };
  };
  return {
    membership: {
      register: (info) => m.register(info),
      leases: () => m.leases(),
      list: (role) => m.list(role).map(adjust),
      get: (id) => {
        const g = m.get(id);
        return g === undefined ? undefined : adjust(g);
      },
      watch: (listener) => m.watch(listener),
    },
    placement: inner.placement,
    moves: inner.moves,
    drains: inner.drains,
    election: inner.election,
    start: () => inner.start(),
    close: () => inner.close(),
  };
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function post(gateway: Gateway, path: string, body: unknown): Promise<Answer> {
  const res = await fetch(`${gateway.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const PASSWORD = 'correct-horse-1';

async function register(gateway: Gateway, username: string, groupId?: string | null): Promise<void> {
  const r = await post(gateway, '/v1/auth/register', { username, password: PASSWORD, ...(groupId === undefined ? {} : { groupId }) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

/** Log in through `gateway`; returns where the player is told to connect. */
async function login(gateway: Gateway, username: string): Promise<{ gateway: string; gateways: string[]; token: string }> {
  const r = await post(gateway, '/v1/auth/login', { username, password: PASSWORD });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // The answer's shape is the one clients know: nothing added, nothing removed.
  assert.deepEqual(Object.keys(r.body).sort(), ['accountId', 'expiresAt', 'gateway', 'gateways', 'token', 'username']);
  const gateways = r.body['gateways'] as string[];
  assert.equal(r.body['gateway'], gateways[0]);
  return { gateway: r.body['gateway'] as string, gateways, token: r.body['token'] as string };
}

interface Fixture {
  readonly a: Gateway;
  readonly b: Gateway;
  readonly loads: Map<string, number>;
  readonly sessions: SessionStore;
}

/** Two gateways (capacity 10) sharing one coordinator, one account store and one session store. */
async function withGateways(sessions: SessionStore, body: (f: Fixture) => Promise<void>): Promise<void> {
  const loads = new Map<string, number>();
  const inner = new MemoryCoordinator();
  const store = new SqliteStore({ file: ':memory:' });
  await store.start();
  await sessions.start();
  const shared = { clusterSecret: 'group-affinity-test-secret', coordinator: withLoads(inner, loads), store, sessions, protocol: coreProtocol, port: 0, capacity: 10, scryptCost: 1024, clientGroups: true };
  const a = new Gateway({ ...shared, gatewayId: 'gw-a' });
  const b = new Gateway({ ...shared, gatewayId: 'gw-b' });
  try {
    await a.start();
    await b.start();
    await body({ a, b, loads, sessions });
  } finally {
    await a.close();
    await b.close();
    await sessions.close();
    await store.close();
    await inner.close();
  }
}

const backends: [string, () => SessionStore][] = [
  ['memory', () => new MemorySessionStore()],
  ['redis', () => new RedisSessionStore({ url: redisUrl, keyPrefix: `${runPrefix}${randomBytes(3).toString('hex')}:` })],
];

for (const [backend, makeSessions] of backends) {
  describe(`group affinity, sessions in ${backend}`, () => {
    test('players of one group logging in through different gateways are told the same gateway; others get the least loaded', () =>
      withGateways(makeSessions(), async ({ a, b, loads }) => {
        const A = a.publicUrl;
        const B = b.publicUrl;
        assert.notEqual(A, B);
        await register(a, 'alice', 'guild-1');
        await register(b, 'bob', 'guild-1');
        await register(a, 'carol', 'guild-2');
        await register(b, 'dave');
        await register(a, 'erin', 'guild-3');
        await register(b, 'frank', 'guild-3');
        await register(a, 'gina', null);

        // The group's first login: the least-loaded gateway, which becomes the group's.
        loads.set('gw-a', 5).set('gw-b', 2);
        assert.deepEqual((await login(a, 'alice')).gateways, [B, A]);
        // Now gw-a is the least loaded, but bob, through the other gateway, joins his group.
        loads.set('gw-a', 1).set('gw-b', 6);
        assert.deepEqual((await login(b, 'bob')).gateways, [B, A]);
        assert.deepEqual((await login(a, 'bob')).gateways, [B, A]);
        // Another group and no group: the least-loaded gateway, wherever they log in.
        assert.deepEqual((await login(b, 'carol')).gateways, [A, B]);
        assert.deepEqual((await login(b, 'dave')).gateways, [A, B]);
        assert.deepEqual((await login(b, 'gina')).gateways, [A, B]);

        // The group's gateway at its capacity: the next login moves the group to the least
        // loaded one, and the group stays there once the old one has room again.
        loads.set('gw-a', 1).set('gw-b', 10);
        assert.deepEqual((await login(b, 'alice')).gateways, [A, B]);
        loads.set('gw-a', 8).set('gw-b', 3);
        assert.deepEqual((await login(b, 'bob')).gateways, [A, B]);
        assert.deepEqual((await login(a, 'dave')).gateways, [B, A], 'no group: the least loaded');

        // Two members of a new group at once, through two equally loaded gateways, each of
        // which would name itself first: they agree on one.
        loads.set('gw-a', 4).set('gw-b', 4);
        assert.deepEqual((await login(a, 'dave')).gateways, [A, B]);
        assert.deepEqual((await login(b, 'dave')).gateways, [B, A]);
        const [erin, frank] = await Promise.all([login(a, 'erin'), login(b, 'frank')]);
        assert.equal(erin.gateway, frank.gateway);

        // The group's gateway gone: its players go to a live one, and it becomes the group's.
        await a.close();
        assert.deepEqual((await login(b, 'alice')).gateways, [B]);
        assert.deepEqual((await login(b, 'bob')).gateways, [B]);
      }));

    test('two logins of a new group that both read "no gateway yet" before either assigns one still agree', async () => {
      const sessions = makeSessions();
      await sessions.start();
      try {
        // Both reads return before either login writes: the store's set-if-absent decides.
        let readers = 0;
        let release!: () => void;
        const bothRead = new Promise<void>((r) => (release = r));
        const racing: SessionStore = Object.create(sessions) as SessionStore;
        racing.groupGateway = async (groupId) => {
          const current = await sessions.groupGateway(groupId);
          if (++readers === 2) release();
          await bothRead;
          return current;
        };
        racing.assignGroupGateway = (groupId, gatewayId, replaces) => sessions.assignGroupGateway(groupId, gatewayId, replaces);
        // Equally loaded: each gateway would name itself first.
        const live = [gw('g-a', 4), gw('g-b', 4)];
        const [viaA, viaB] = await Promise.all([
          chooseGateways(racing, live, 'g-a', 'raiders', silentLogger),
          chooseGateways(racing, live, 'g-b', 'raiders', silentLogger),
        ]);
        assert.equal(readers, 2);
        assert.equal(viaA[0]!.id, viaB[0]!.id, 'one gateway for the group');
        assert.equal(await sessions.groupGateway('raiders'), viaA[0]!.id);
      } finally {
        await sessions.close();
      }
    });

    test('register refuses a malformed groupId with 400 GW_ERR_INVALID_GROUP and creates nothing', () =>
      withGateways(makeSessions(), async ({ a }) => {
        for (const groupId of ['', 'x'.repeat(65), 'has space', 'é', 'a/b', 42, true, {}, ['g']]) {
          const r = await post(a, '/v1/auth/register', { username: 'grouper', password: PASSWORD, groupId });
          assert.equal(r.status, 400, JSON.stringify(groupId));
          assert.equal(r.body['code'], ErrorCodes.GW_ERR_INVALID_GROUP);
          assert.equal(typeof r.body['message'], 'string');
        }
        // Nothing was created: the name is still free, and the longest group id is accepted.
        await register(a, 'grouper', `Guild_1.eu:${'x'.repeat(53)}`);
        // The other fields are still checked first.
        const r = await post(a, '/v1/auth/register', { username: 'x', password: PASSWORD, groupId: 'ok' });
        assert.equal(r.body['code'], ErrorCodes.GW_ERR_INVALID_USERNAME);
      }));
  });
}

const gw = (id: string, load: number): MemberInfo => ({ id, role: 'gateway', address: `ws://${id}/ws`, load, capacity: 10, startedAt: 0 });
const ids = (ms: MemberInfo[]): string[] => ms.map((m) => m.id);

/** A memory session store whose group methods fail as Redis does when it is down. */
class GroupsDown implements SessionStore {
  readonly inner = new MemorySessionStore();
  down = false;
  start = () => this.inner.start();
  close = () => this.inner.close();
  create: SessionStore['create'] = (input) => this.inner.create(input);
  get: SessionStore['get'] = (token, options) => this.inner.get(token, options);
  touch: SessionStore['touch'] = (token) => this.inner.touch(token);
  revoke: SessionStore['revoke'] = (token) => this.inner.revoke(token);
  setScene: SessionStore['setScene'] = (token, sceneId) => this.inner.setScene(token, sceneId);
  locate: SessionStore['locate'] = (accountId) => this.inner.locate(accountId);
  coolDown: SessionStore['coolDown'] = (accountId, ms) => this.inner.coolDown(accountId, ms);
  groupGateway: SessionStore['groupGateway'] = (groupId) => (this.down ? this.#fail() : this.inner.groupGateway(groupId));
  assignGroupGateway: SessionStore['assignGroupGateway'] = (groupId, gatewayId, replaces) =>
    this.down ? this.#fail() : this.inner.assignGroupGateway(groupId, gatewayId, replaces);
  #fail(): Promise<never> {
    return Promise.reject(new CodedError(ErrorCodes.GW_ERR_SESSION_STORE, 'session groupGateway failed: connect ECONNREFUSED'));
  }
}

test('a session store failing during a group login answers 503 GW_ERR_SESSION_STORE and keeps the current session', async () => {
  const sessions = new GroupsDown();
  await withGateways(sessions, async ({ a }) => {
    await register(a, 'alice', 'guild-1');
    const first = await login(a, 'alice');
    sessions.down = true;
    const r = await post(a, '/v1/auth/login', { username: 'alice', password: PASSWORD });
    assert.equal(r.status, 503);
    assert.equal(r.body['code'], ErrorCodes.GW_ERR_SESSION_STORE);
    assert.ok((await sessions.get(first.token)) !== null, 'the failed login revoked nothing');
    sessions.down = false;
    assert.equal((await login(a, 'alice')).gateway, first.gateway);
  });
});

test('chooseGateways: with every gateway full the group keeps its gateway; a gone gateway is replaced', async () => {
  const sessions = new MemorySessionStore();
  try {
    assert.deepEqual(ids(await chooseGateways(sessions, [gw('g1', 3), gw('g2', 1)], 'g1', 'guild', silentLogger)), ['g2', 'g1']);
    assert.equal(await sessions.groupGateway('guild'), 'g2');
    // Every gateway full: the plain order, and the group's gateway is left as it was.
    assert.deepEqual(ids(await chooseGateways(sessions, [gw('g1', 10), gw('g2', 12)], 'g1', 'guild', silentLogger)), ['g1', 'g2']);
    assert.equal(await sessions.groupGateway('guild'), 'g2');
    // The group's gateway is not among the live ones: replaced by the least loaded.
    assert.deepEqual(ids(await chooseGateways(sessions, [gw('g1', 5), gw('g3', 1)], 'g1', 'guild', silentLogger)), ['g3', 'g1']);
    assert.equal(await sessions.groupGateway('guild'), 'g3');
    // No group, or no gateway known: the plain order, and the store is not asked.
    assert.deepEqual(ids(await chooseGateways(sessions, [gw('g1', 5), gw('g2', 1)], 'g1', null, silentLogger)), ['g2', 'g1']);
    assert.deepEqual(await chooseGateways(sessions, [], 'g1', 'other', silentLogger), []);
    assert.equal(await sessions.groupGateway('other'), null);
  } finally {
    await sessions.close();
  }
});

test('chooseGateways: losing the race to another login, the player follows its choice when this view lists it with room', async () => {
  // The group had no gateway when this login looked, and another login assigned one before it.
  const raced = (agreed: string) => ({ groupGateway: async () => null, assignGroupGateway: async () => agreed }) as unknown as SessionStore;
  const live = [gw('g1', 5), gw('g2', 1), gw('g3', 3), gw('g4', 10)];
  assert.deepEqual(ids(await chooseGateways(raced('g3'), live, 'g1', 'guild', silentLogger)), ['g3', 'g2', 'g1', 'g4']);
  // Not in this view yet (its membership watch lags), or full: the plain order.
  assert.deepEqual(ids(await chooseGateways(raced('g9'), live, 'g1', 'guild', silentLogger)), ['g2', 'g3', 'g1', 'g4']);
  assert.deepEqual(ids(await chooseGateways(raced('g4'), live, 'g1', 'guild', silentLogger)), ['g2', 'g3', 'g1', 'g4']);
});
