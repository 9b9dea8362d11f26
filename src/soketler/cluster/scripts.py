"""The Lua scripts run inside Redis, where a check and a write must be one step.

Each script touches the keys of one hash tag only (one stream, one claim), so it runs
unchanged on a Redis Cluster.
"""

from __future__ import annotations

from soketler.cluster.cursors import SEQ_LIMIT

# How far back a retried publish looks for its first attempt, at most (entries).
RETRY_SCAN_LIMIT = 10_000

# KEYS[1]: the stream; KEYS[2...]: records beside it that the effects change (the
# same hash tag). ARGV[1]: MAXLEN (0: none), ARGV[2]: the origin token, ARGV[3]: ''
# (first attempt), or the stream id after which a retried publish looks for its token
# ('-' for anywhere), ARGV[4]: the number N of field arguments, ARGV[5 .. 4+N]: the
# entry's fields and values, then each effect (`core.bus`): its name, the index of its
# key in KEYS, its number of arguments M, and M arguments.
# Returns the entry's stream id, or '' when a 'require' effect left the event out.
# The effects are made in the same step as the entry: whoever reads the records and the
# stream's last id in one step (SNAPSHOT) sees each change once, there or in the stream.
PUBLISH = f"""
local stream, maxlen, token, floor = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
if floor ~= '' then
  -- A retry: the first attempt may have been written before the connection broke.
  local low = '-'
  if floor ~= '-' then low = '(' .. floor end
  local recent = redis.call('XREVRANGE', stream, '+', low, 'COUNT', {RETRY_SCAN_LIMIT})
  for _, entry in ipairs(recent) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == '_o' and fields[i + 1] == token then return entry[1] end
    end
  end
end
local nfields = tonumber(ARGV[4])
local effects = {{}}
local i = 5 + nfields
while i <= #ARGV do
  effects[#effects + 1] = {{ARGV[i], KEYS[tonumber(ARGV[i + 1])], i + 3}}
  i = i + 3 + tonumber(ARGV[i + 2])
end
local function node_of(text)
  local ok, rec = pcall(cjson.decode, text)
  if ok and type(rec) == 'table' then return rec[5] end
  return nil
end
-- Checks, before anything is written.
local status = nil
for _, e in ipairs(effects) do
  local op, key, at = e[1], e[2], e[3]
  if op == 'require' then
    local rec = redis.call('HGET', key, ARGV[at])
    if not rec or node_of(rec) ~= ARGV[at + 1] then return '' end
  elseif op == 'join' and redis.call('HLEN', key) == 0 then
    status = '@'  -- the first member of an empty room is its operator
  end
end
local args = {{'XADD', stream}}
if maxlen ~= '0' then
  args[#args + 1] = 'MAXLEN'; args[#args + 1] = '~'; args[#args + 1] = maxlen
end
args[#args + 1] = '*'
local star = #args
for j = 5, 4 + nfields do args[#args + 1] = ARGV[j] end
if status then args[#args + 1] = 'status'; args[#args + 1] = status end
local id = redis.call(unpack(args))
local ms, seq = string.match(id, '^(%d+)-(%d+)$')
if tonumber(seq) >= {SEQ_LIMIT} then
  -- More entries in this millisecond than a cursor can number: the entry moves to the
  -- next millisecond. Nobody has seen it: a script runs as one step.
  redis.call('XDEL', stream, id)
  args[star] = string.format('%.0f', tonumber(ms) + 1) .. '-0'
  id = redis.call(unpack(args))
end
for _, e in ipairs(effects) do
  local op, key, at = e[1], e[2], e[3]
  if op == 'set' then
    redis.call('HSET', key, ARGV[at], ARGV[at + 1])
  elseif op == 'delete' then
    redis.call('HDEL', key, ARGV[at])
  elseif op == 'join' then
    local rec = cjson.decode(ARGV[at + 1])
    if status then rec[4] = status end
    redis.call('HSET', key, ARGV[at], cjson.encode(rec))
  elseif op == 'status' then
    local text = redis.call('HGET', key, ARGV[at])
    if text then
      local rec = cjson.decode(text)
      rec[4] = ARGV[at + 1]
      redis.call('HSET', key, ARGV[at], cjson.encode(rec))
    end
  elseif op == 'rename' then
    local text = redis.call('HGET', key, ARGV[at])
    if text then
      local rec = cjson.decode(text)
      rec[1] = ARGV[at + 2]
      redis.call('HDEL', key, ARGV[at])
      redis.call('HSET', key, ARGV[at + 1], cjson.encode(rec))
    end
  elseif op == 'drop-node' then
    local all = redis.call('HGETALL', key)
    for k = 1, #all, 2 do
      if node_of(all[k + 1]) == ARGV[at] then redis.call('HDEL', key, all[k]) end
    end
  end
end
return id
"""

# KEYS[1]: a stream; KEYS[2...]: hashes kept beside it. Returns the stream's last id
# ('0-0' when it has none) and each hash, read in one step: reading the stream after
# that id then gives every change made since (see PUBLISH's effects).
SNAPSHOT = """
local last = '0-0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for j = 1, #info, 2 do
    if info[j] == 'last-generated-id' then last = info[j + 1] end
  end
end
local out = {last}
for k = 2, #KEYS do out[#out + 1] = redis.call('HGETALL', KEYS[k]) end
return out
"""

# KEYS: the streams, then the topics hash if there are topics. ARGV[1]: MAXLEN (0:
# none), ARGV[2]: the number of topics T, then T field/value pairs, then per message:
# the index of its stream in KEYS, its stream id, its number of fields N, N pairs.
# Every id is checked before anything is written, so the group is stored whole or not
# at all; an id already in its stream is one an earlier attempt stored, and is skipped.
# Returns the number of entries added.
WRITE_GROUP = """
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local maxlen, ntopics = ARGV[1], tonumber(ARGV[2])
local last, writes = {}, {}
local i = 3 + 2 * ntopics
while i <= #ARGV do
  local key, id, n = KEYS[tonumber(ARGV[i])], ARGV[i + 1], tonumber(ARGV[i + 2])
  if last[key] == nil then
    last[key] = {0, 0}
    if redis.call('EXISTS', key) == 1 then
      local info = redis.call('XINFO', 'STREAM', key)
      for j = 1, #info, 2 do
        if info[j] == 'last-generated-id' then last[key] = {parse(info[j + 1])} end
      end
    end
  end
  local ms, seq = parse(id)
  if ms > last[key][1] or (ms == last[key][1] and seq > last[key][2]) then
    writes[#writes + 1] = {key, id, i + 3, n}
    last[key] = {ms, seq}
  elseif #redis.call('XRANGE', key, id, id) == 0 then
    return redis.error_reply('ERR message id ' .. id .. ' is not after the last one in ' .. key)
  end
  i = i + 3 + 2 * n
end
for _, w in ipairs(writes) do
  local args = {'XADD', w[1]}
  if maxlen ~= '0' then
    args[#args + 1] = 'MAXLEN'; args[#args + 1] = '~'; args[#args + 1] = maxlen
  end
  args[#args + 1] = w[2]
  for j = w[3], w[3] + 2 * w[4] - 1 do args[#args + 1] = ARGV[j] end
  redis.call(unpack(args))
end
if ntopics > 0 then
  local args = {'HSET', KEYS[#KEYS]}
  for j = 3, 2 + 2 * ntopics do args[#args + 1] = ARGV[j] end
  redis.call(unpack(args))
end
return #writes
"""

# KEYS[1]: a nickname claim. ARGV[1]: this node's id. Deletes the claim only if this
# node holds it: after a long outage another node may hold it now.
RELEASE_CLAIM = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS[1]: a nickname claim. ARGV[1]: this node's id, ARGV[2]: the TTL in ms.
# 1: still ours, TTL renewed; 2: it had expired (Redis was away longer than the TTL,
# or restarted empty) and nobody took it, so it is ours again; 0: another node has it.
REFRESH_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""
