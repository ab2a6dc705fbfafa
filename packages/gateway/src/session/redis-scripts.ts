/**
 * The session store's Lua scripts: each operation of `RedisSessionStore` is one script,
 * so replace-on-login and read-and-extend are atomic. Loaded once (SCRIPT LOAD), run by sha.
 */
import { createHash } from 'node:crypto';

export interface Script {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): Script {
  return Object.freeze({ lua, sha: createHash('sha1').update(lua).digest('hex') });
}

// Every script reads the clock from Redis (TIME), so all gateways agree on expiresAt and it
// matches PEXPIRE. Redis 7 replicates script effects, so TIME is allowed before writes.
const NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Replace the account's session atomically, so two concurrent logins leave exactly one.
 * KEYS: account key, new session key. ARGV: session key prefix, new id, accountId, username,
 * sceneId, ttlMs, groupId or ''. Returns { replaced id or '', now }.
 */
export const CREATE = script(`${NOW_LUA}
local ttl = tonumber(ARGV[6])
local replaced = ''
local old = redis.call('GET', KEYS[1])
if old and redis.call('DEL', ARGV[1] .. old) == 1 then replaced = old end
redis.call('HSET', KEYS[2], 'accountId', ARGV[3], 'username', ARGV[4], 'sceneId', ARGV[5],
  'createdAt', string.format('%.0f', now), 'expiresAt', string.format('%.0f', now + ttl), 'groupId', ARGV[7])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
return { replaced, string.format('%.0f', now) }`);

/**
 * Read and extend in one step; a session of a group member also extends the group's gateway
 * assignment, if there is one. KEYS: session key. ARGV: account key prefix, id, ttlMs, group
 * key prefix, the gateway the player connects to or '' (kept as its presence), cool-down key
 * prefix. Returns { accountId, username, sceneId, createdAt, expiresAt, groupId or '', ms left
 * of the account's flood cool-down (0: none) } or nil (a session written before groups existed
 * has no groupId field: '').
 */
export const SLIDE = script(`local f = redis.call('HMGET', KEYS[1], 'accountId', 'username', 'sceneId', 'createdAt', 'groupId')
if not f[1] then return false end
${NOW_LUA}
local ttl = tonumber(ARGV[3])
local exp = string.format('%.0f', now + ttl)
if ARGV[5] ~= nil and ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 'expiresAt', exp, 'gatewayId', ARGV[5])
else
  redis.call('HSET', KEYS[1], 'expiresAt', exp)
end
redis.call('PEXPIRE', KEYS[1], ttl)
local acct = ARGV[1] .. f[1]
if redis.call('GET', acct) == ARGV[2] then redis.call('PEXPIRE', acct, ttl) end
local group = f[5] or ''
if group ~= '' then redis.call('PEXPIRE', ARGV[4] .. group, ttl) end
local cool = 0
if ARGV[6] ~= nil and ARGV[6] ~= '' then
  cool = redis.call('PTTL', ARGV[6] .. f[1])
  if cool < 0 then cool = 0 end
end
return { f[1], f[2], f[3], f[4], exp, group, tostring(cool) }`);

/** KEYS: session key. ARGV: account key prefix, id. Returns 1 when a session was removed. */
export const REVOKE = script(`local a = redis.call('HGET', KEYS[1], 'accountId')
if not a then return 0 end
redis.call('DEL', KEYS[1])
local acct = ARGV[1] .. a
if redis.call('GET', acct) == ARGV[2] then redis.call('DEL', acct) end
return 1`);

/** KEYS: session key. ARGV: sceneId. Returns 0 when the session does not exist. */
export const SET_SCENE = script(`if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'sceneId', ARGV[1])
return 1`);

/**
 * Where the account's player plays, without extending anything. KEYS: account key. ARGV:
 * session key prefix. Returns { sceneId, gatewayId or '' } of its live session, or nil.
 */
export const LOCATE = script(`local id = redis.call('GET', KEYS[1])
if not id then return false end
local f = redis.call('HMGET', ARGV[1] .. id, 'sceneId', 'gatewayId')
if not f[1] then return false end
return { f[1], f[2] or '' }`);

/** KEYS: group key. ARGV: ttlMs. Returns the group's gateway id, extended, or nil. */
export const GROUP_GET = script(`local g = redis.call('GET', KEYS[1])
if g then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return g`);

/**
 * Set the group's gateway when it has none or it is still the one the caller replaces (compare
 * and set); extend it either way. KEYS: group key. ARGV: gatewayId, replaces or '', ttlMs.
 * Returns the group's gateway id after the call.
 */
export const GROUP_ASSIGN = script(`local g = redis.call('GET', KEYS[1])
if (not g) or (ARGV[2] ~= '' and g == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return ARGV[1]
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return g`);

export const SCRIPTS = [CREATE, SLIDE, REVOKE, SET_SCENE, LOCATE, GROUP_GET, GROUP_ASSIGN] as const;
