/**
 * The Redis backend's Lua scripts: each operation on a board is one script, so a score update
 * and its rank, or a member and its neighbours, are read and written atomically. Every script
 * first checks the board's definition still has the version the caller read (`{'stale'}` if
 * not), so no operation lands in a board deleted (and maybe created again) meanwhile.
 *
 * Keys of one board share the hash tag `{name}`; everything but its definition also carries the
 * board's version (`{name}:<version>:…`), so a board deleted and created again never meets the
 * old one's standings. Standings of a period: `…:z` (sorted set:
 * score → `<15-digit tie tag>:<memberId>`), `…:m` (hash memberId → its sorted-set member),
 * `…:d` (hash memberId → data JSON). The tie tag makes equal scores rank by arrival: a board
 * counter (`…:seq`) taken whenever a score changes, written so that the earlier arrival sorts
 * first in the board's order (inverted for `desc`, read with ZREVRANGE).
 */

/** Shared start of the board scripts: KEYS[1] is the definition, ARGV[1] the version. */
const CHECK = `if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return {'stale'} end`;

/** `rank` and `range` in the board's order, `desc` from ARGV. */
const ORDERED = `local function rank(z, member, desc)
  if desc then return redis.call('ZREVRANK', z, member) end
  return redis.call('ZRANK', z, member)
end
local function range(z, start, stop, desc)
  if desc then return redis.call('ZREVRANGE', z, start, stop, 'WITHSCORES') end
  return redis.call('ZRANGE', z, start, stop, 'WITHSCORES')
end
local function withData(d, items)
  local ids = {}
  for i = 1, #items, 2 do ids[#ids + 1] = string.sub(items[i], 17) end
  if #ids == 0 then return {} end
  return redis.call('HMGET', d, unpack(ids))
end`;

export interface ScriptDef {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/** KEYS: def. ARGV: definition JSON, version. → {'created'|'exists', json}. */
export const DEFINE: ScriptDef = {
  numberOfKeys: 1,
  lua: `local have = redis.call('HGET', KEYS[1], 'json')
if have then return {'exists', have} end
redis.call('HSET', KEYS[1], 'json', ARGV[1], 'version', ARGV[2])
return {'created', ARGV[1]}`,
};

/**
 * KEYS: def, the version's periods. ARGV: version. → {'gone'} when there is no board, {'stale'}
 * when it has another version now, else {'ok', {periods…}} (oldest first): the definition is gone.
 */
export const UNDEFINE: ScriptDef = {
  numberOfKeys: 2,
  lua: `local v = redis.call('HGET', KEYS[1], 'version')
if not v then return {'gone'} end
if v ~= ARGV[1] then return {'stale'} end
redis.call('DEL', KEYS[1])
return {'ok', redis.call('ZRANGE', KEYS[2], 0, -1)}`,
};

/**
 * KEYS: def, seq, periods, z, m, d. ARGV: version, memberId, score, policy, 'desc'|'asc',
 * data mode ('keep'|'set'|'clear'), data, period. → {'ok', score, rank (0-based), changed 0|1}.
 */
export const SUBMIT: ScriptDef = {
  numberOfKeys: 6,
  lua: `${CHECK}
${ORDERED}
local id, policy, desc = ARGV[2], ARGV[4], ARGV[5] == 'desc'
local score = tonumber(ARGV[3])
local member = redis.call('HGET', KEYS[5], id)
local old = nil
if member then old = tonumber(redis.call('ZSCORE', KEYS[4], member)) end
local new = score
if policy == 'increment' then
  new = (old or 0) + score
elseif policy == 'best' and old then
  if (desc and score <= old) or ((not desc) and score >= old) then new = old end
end
local changed = 0
if old == nil or new ~= old then
  local seq = redis.call('INCR', KEYS[2])
  if desc then seq = 999999999999999 - seq end
  if member then redis.call('ZREM', KEYS[4], member) end
  member = string.format('%015d', seq) .. ':' .. id
  redis.call('ZADD', KEYS[4], string.format('%.17g', new), member)
  redis.call('HSET', KEYS[5], id, member)
  changed = 1
end
if ARGV[6] == 'set' then redis.call('HSET', KEYS[6], id, ARGV[7])
elseif ARGV[6] == 'clear' then redis.call('HDEL', KEYS[6], id) end
redis.call('ZADD', KEYS[3], 'NX', ARGV[8], ARGV[8])
return {'ok', redis.call('ZSCORE', KEYS[4], member), rank(KEYS[4], member, desc), changed}`,
};

/** KEYS: def, z, m, d. ARGV: version, memberId, order. → {'ok'} when absent, else {'ok', score, rank, data|false}. */
export const ENTRY: ScriptDef = {
  numberOfKeys: 4,
  lua: `${CHECK}
${ORDERED}
local member = redis.call('HGET', KEYS[3], ARGV[2])
if not member then return {'ok'} end
return {'ok', redis.call('ZSCORE', KEYS[2], member), rank(KEYS[2], member, ARGV[3] == 'desc'), redis.call('HGET', KEYS[4], ARGV[2])}`,
};

/** KEYS: def, z, m, d. ARGV: version, memberId, order, before, after. → {'ok'} when absent, else {'ok', first rank, items (member, score…), data}. */
export const AROUND: ScriptDef = {
  numberOfKeys: 4,
  lua: `${CHECK}
${ORDERED}
local desc = ARGV[3] == 'desc'
local member = redis.call('HGET', KEYS[3], ARGV[2])
if not member then return {'ok'} end
local at = rank(KEYS[2], member, desc)
local first = math.max(0, at - tonumber(ARGV[4]))
local items = range(KEYS[2], first, at + tonumber(ARGV[5]), desc)
return {'ok', first, items, withData(KEYS[4], items)}`,
};

/** KEYS: def, z, d. ARGV: version, order, offset, limit. → {'ok', total, items, data}. */
export const RANGE: ScriptDef = {
  numberOfKeys: 3,
  lua: `${CHECK}
${ORDERED}
local first = tonumber(ARGV[3])
local items = range(KEYS[2], first, first + tonumber(ARGV[4]) - 1, ARGV[2] == 'desc')
return {'ok', redis.call('ZCARD', KEYS[2]), items, withData(KEYS[3], items)}`,
};

/** KEYS: z, d. ARGV: order, offset, limit. → {items, data}: a closed period's standings, for the archiver. */
export const PERIOD_RANGE: ScriptDef = {
  numberOfKeys: 2,
  lua: `${ORDERED}
local first = tonumber(ARGV[2])
local items = range(KEYS[1], first, first + tonumber(ARGV[3]) - 1, ARGV[1] == 'desc')
return {items, withData(KEYS[2], items)}`,
};

/** KEYS: def, z. ARGV: version. → {'ok', count}. */
export const COUNT: ScriptDef = {
  numberOfKeys: 2,
  lua: `${CHECK}
return {'ok', redis.call('ZCARD', KEYS[2])}`,
};

/** KEYS: def, z, m, d. ARGV: version, memberId. → {'ok', 1|0}. */
export const REMOVE: ScriptDef = {
  numberOfKeys: 4,
  lua: `${CHECK}
local member = redis.call('HGET', KEYS[3], ARGV[2])
if not member then return {'ok', 0} end
redis.call('ZREM', KEYS[2], member)
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[4], ARGV[2])
return {'ok', 1}`,
};

/** KEYS: lock. ARGV: owner, ttlMs. → 1 when the caller holds the lock now (taken, or already its own), else 0. */
export const LOCK: ScriptDef = {
  numberOfKeys: 1,
  lua: `local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
};

export const SCRIPTS = { DEFINE, UNDEFINE, SUBMIT, ENTRY, AROUND, RANGE, PERIOD_RANGE, COUNT, REMOVE, LOCK } as const;
export type ScriptName = keyof typeof SCRIPTS;
