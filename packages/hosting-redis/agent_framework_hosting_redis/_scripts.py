"""The Lua scripts that make each state operation one atomic round trip to Redis.

A value is a hash: ``v`` its version, ``d`` its JSON. A log is a stream whose entry ids
are ``0-1``, ``0-2``, … (index + 1), so an index is a position without a counter key. A
lease is a string holding its fencing token, with the lease's expiry as its own; tokens
come from one counter. A fenced write checks its lease first and fails with
``LEASE_LOST``; every write that wakes someone publishes on the store's channel.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "APPEND", "DELETE", "RELEASE", "RENEW", "SET_MANY", "WRITE"]

_FENCE = """
local function fenced(lease, token)
  if lease ~= '' and redis.call('GET', lease) ~= token then
    return false
  end
  return true
end
local function store(key, data, ttl)
  local version = redis.call('HINCRBY', key, 'v', 1)
  redis.call('HSET', key, 'd', data)
  if ttl ~= '' then
    redis.call('PEXPIRE', key, ttl)
  else
    redis.call('PERSIST', key)
  end
  return version
end
"""

SET_MANY = (
    _FENCE
    + """
-- KEYS: the values' keys; ARGV: lease key, token, ttl ms or '', then one JSON per key
if not fenced(ARGV[1], ARGV[2]) then
  return redis.error_reply('LEASE_LOST')
end
for i, key in ipairs(KEYS) do
  store(key, ARGV[3 + i], ARGV[3])
end
return #KEYS
"""
)

WRITE = (
    _FENCE
    + """
-- KEYS[1]: the value; ARGV: lease key, token, ttl ms or '', expected version or '', JSON,
-- then '1' to release the lease (written or not) and the channel and topic to tell
if not fenced(ARGV[1], ARGV[2]) then
  return redis.error_reply('LEASE_LOST')
end
local current = redis.call('HGET', KEYS[1], 'v')
local written = false
if (ARGV[4] == '' and not current) or (ARGV[4] ~= '' and current == ARGV[4]) then
  written = store(KEYS[1], ARGV[5], ARGV[3])
end
if ARGV[6] == '1' then
  redis.call('DEL', ARGV[1])
  redis.call('PUBLISH', ARGV[7], ARGV[8])
end
return written
"""
)

DELETE = """
-- KEYS: keys to remove; ARGV[1]: the channel; then one topic per key to wake
for i, key in ipairs(KEYS) do
  redis.call('DEL', key)
  redis.call('PUBLISH', ARGV[1], ARGV[1 + i])
end
return #KEYS
"""

APPEND = """
-- KEYS[1]: the log; ARGV: entry, ttl ms or '', channel, topic
local index = redis.call('XLEN', KEYS[1])
redis.call('XADD', KEYS[1], '0-' .. (index + 1), 'e', ARGV[1])
if ARGV[2] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return index
"""

ACQUIRE = """
-- KEYS: the lease, the token counter, and a value to read once taken (or none)
-- ARGV[1]: ttl ms. Answers {token, version, JSON} when taken (the value's parts false
-- when there is none), else {minus the milliseconds the holder still has}.
local left = redis.call('PTTL', KEYS[1])
if left ~= -2 then
  return {-math.max(left, 1)}
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
if KEYS[3] then
  local read = redis.call('HMGET', KEYS[3], 'v', 'd')
  return {token, read[1], read[2]}
end
return {token}
"""

RENEW = """
-- KEYS[1]: the lease; ARGV: token, ttl ms
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

RELEASE = """
-- KEYS[1]: the lease; ARGV: token, channel, topic
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
"""
