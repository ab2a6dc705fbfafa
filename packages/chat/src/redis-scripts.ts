/**
 * The Redis backend's Lua scripts: each operation that reads and writes, or writes twice, is one
 * script, so it applies whole or not at all and nothing runs between its steps. Times are the
 * server's (`TIME`, or a stream id's time part), never a client's.
 *
 * Keys (after the backend's prefix): `ch:<channel>` a stream of lines (fields from, name, text),
 * `held:<playerId>` a list of `<expiresAtMs> <line JSON>`, `mute:<playerId>` the time muted until,
 * `block:<playerId>` the set of players blocked.
 */

export interface ScriptDef {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/** The server's time in ms, as `now`. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: the channel's stream. ARGV: maxLines, maxAgeMs, from, name, text. → the new id.
 * The line is added with an id of the server's clock, the stream trimmed to exactly maxLines
 * and to the lines no older than maxAgeMs before it (exact, not `~`: the retention is a bound),
 * and the whole stream expires maxAgeMs after this line (by then every line is too old).
 */
export const APPEND: ScriptDef = {
  numberOfKeys: 1,
  lua: `local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'from', ARGV[3], 'name', ARGV[4], 'text', ARGV[5])
local ms = tonumber(string.match(id, '^(%d+)-'))
local age = tonumber(ARGV[2])
if ms > age then redis.call('XTRIM', KEYS[1], 'MINID', string.format('%.0f', ms - age)) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return id`,
};

/**
 * KEYS: the player's held list. ARGV: line JSON, max, ttlMs. → the list's length.
 * Lines expired at the head are dropped, the line pushed with its expiry, the list cut to the
 * newest `max`, and the key kept at least until this line expires (a longer-lived line before it
 * keeps its own time).
 */
export const HOLD: ScriptDef = {
  numberOfKeys: 1,
  lua: `${NOW}
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then break end
  local exp = tonumber(string.match(head, '^(%d+) '))
  if exp and exp > now then break end
  redis.call('LPOP', KEYS[1])
end
local ttl = tonumber(ARGV[3])
redis.call('RPUSH', KEYS[1], string.format('%.0f', now + ttl) .. ' ' .. ARGV[1])
redis.call('LTRIM', KEYS[1], '-' .. ARGV[2], -1)
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return redis.call('LLEN', KEYS[1])`,
};

/** KEYS: the player's held list. → {now, {entries…}}: the list, read and deleted in one step. */
export const TAKE_HELD: ScriptDef = {
  numberOfKeys: 1,
  lua: `${NOW}
local items = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return {now, items}`,
};

/** KEYS: the player's held list. ARGV: the line's id. → 1 removed, 0 not held. */
export const RELEASE_HELD: ScriptDef = {
  numberOfKeys: 1,
  lua: `local needle = '"id":' .. cjson.encode(ARGV[1]) .. ','
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if string.find(item, needle, 1, true) then
    redis.call('LREM', KEYS[1], 1, item)
    return 1
  end
end
return 0`,
};

/** KEYS: the player's mute. ARGV: until (ms). → 1 when muted now, 0 when unmuted (a time not after the server's now). */
export const MUTE: ScriptDef = {
  numberOfKeys: 1,
  lua: `${NOW}
if tonumber(ARGV[1]) <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[1])
return 1`,
};

/** KEYS: the player's block set. ARGV: other, the most there may be. → 1 added, 0 already there, -1 full. */
export const BLOCK: ScriptDef = {
  numberOfKeys: 1,
  lua: `if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1`,
};

export const SCRIPTS = { APPEND, HOLD, TAKE_HELD, RELEASE_HELD, MUTE, BLOCK } as const;
export type ScriptName = keyof typeof SCRIPTS;
