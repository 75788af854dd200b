package sharedstate

import "github.com/redis/go-redis/v9"

// The Lua scripts of the Redis store. Every key a script touches belongs to
// one deployment and carries the deployment id as a hash tag, so each
// script runs on one Cluster slot.

// reserveScript grants as much of a wanted amount as fits under the limits
// (at least the minimum, else nothing) and adds it to the current window.
//
// KEYS: current window hash, previous window hash (fields r, t).
// ARGV: want_r, want_t, min_r, min_t, rpm, tpm, prev_weight (1/10000), ttl_ms.
// Returns {granted_r, granted_t, usage_r, usage_t}.
var reserveScript = redis.NewScript(`
local function num(k, f)
  local v = tonumber(redis.call('HGET', k, f) or 0) or 0
  if v < 0 then return 0 end
  return v
end
local wt = tonumber(ARGV[7])
local er = num(KEYS[1], 'r') + math.floor(num(KEYS[2], 'r') * wt / 10000)
local et = num(KEYS[1], 't') + math.floor(num(KEYS[2], 't') * wt / 10000)
local gr, gt = tonumber(ARGV[1]), tonumber(ARGV[2])
local rpm, tpm = tonumber(ARGV[5]), tonumber(ARGV[6])
if rpm > 0 and er + gr > rpm then gr = math.max(rpm - er, 0) end
if tpm > 0 and et + gt > tpm then gt = math.max(tpm - et, 0) end
if gr < tonumber(ARGV[3]) or gt < tonumber(ARGV[4]) then return {0, 0, er, et} end
if gr ~= 0 then redis.call('HINCRBY', KEYS[1], 'r', gr) end
if gt ~= 0 then redis.call('HINCRBY', KEYS[1], 't', gt) end
if gr ~= 0 or gt ~= 0 then redis.call('PEXPIRE', KEYS[1], ARGV[8]) end
return {gr, gt, er + gr, et + gt}
`)

// syncScript applies one deployment's pushes and reads back its shared
// state.
//
// KEYS: current window, previous window, snapshot, cooldown, in-flight hash.
// ARGV: incr_r, incr_t, incr_prev_r, incr_prev_t, usage_ttl_ms,
// snapshot (empty for none), snapshot_ttl_ms, cooldown (empty for none),
// cooldown_ttl_ms, replica (empty for none), in_flight, now_ms, in_flight_ttl_ms.
// Returns {cur_r, cur_t, prev_r, prev_t, snapshot, cooldown, in_flight_sum};
// snapshot and cooldown are empty when absent.
var syncScript = redis.NewScript(`
local function incr(k, r, t, ttl)
  if r == 0 and t == 0 then return end
  if r ~= 0 and redis.call('HINCRBY', k, 'r', r) < 0 then redis.call('HSET', k, 'r', 0) end
  if t ~= 0 and redis.call('HINCRBY', k, 't', t) < 0 then redis.call('HSET', k, 't', 0) end
  redis.call('PEXPIRE', k, ttl)
end
local function keep(k, v, ttl)
  local cur = redis.call('GET', k)
  if v == '' then return cur or '' end
  if cur and string.sub(cur, 1, 20) >= string.sub(v, 1, 20) then return cur end
  redis.call('SET', k, v, 'PX', ttl)
  return v
end
local function num(k, f)
  local v = tonumber(redis.call('HGET', k, f) or 0) or 0
  if v < 0 then return 0 end
  return v
end
incr(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[5])
incr(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5])
local snap = keep(KEYS[3], ARGV[6], ARGV[7])
local cd = keep(KEYS[4], ARGV[8], ARGV[9])
local now, stale = tonumber(ARGV[12]), tonumber(ARGV[13])
if ARGV[10] ~= '' then
  redis.call('HSET', KEYS[5], ARGV[10], ARGV[11] .. ':' .. ARGV[12])
  redis.call('PEXPIRE', KEYS[5], stale)
end
local sum = 0
local all = redis.call('HGETALL', KEYS[5])
for i = 1, #all, 2 do
  local v = all[i + 1]
  local c = string.find(v, ':', 1, true)
  local n, at
  if c then n, at = tonumber(string.sub(v, 1, c - 1)), tonumber(string.sub(v, c + 1)) end
  if n == nil or at == nil or now - at >= stale then
    redis.call('HDEL', KEYS[5], all[i])
  else
    sum = sum + n
  end
end
return {num(KEYS[1], 'r'), num(KEYS[1], 't'), num(KEYS[2], 'r'), num(KEYS[2], 't'), snap, cd, sum}
`)

// takeScript takes from a deployment's upstream request bucket: the token
// bucket its newest stored rate-limit snapshot describes, counting every
// take since (see [Store.Take]; the Go twin is upBucket.take). Times are
// milliseconds, levels floating point.
//
// KEYS: snapshot, bucket hash (fields l: level, a: time, o: the stamp of
// the snapshot it last followed).
// ARGV: snapshot (empty for none), ttl_ms, now_ms, n, assumed_window_ms.
// Returns {ok, wait_ms}: ok 1 when granted, else 0 and the wait until n
// fit (-1: unknown).
var takeScript = redis.NewScript(`
local snap = redis.call('GET', KEYS[1])
local v = ARGV[1]
if v ~= '' and (not snap or string.sub(snap, 1, 20) < string.sub(v, 1, 20)) then
  redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
  snap = v
end
if not snap then return {1, 0} end
local f = {}
for x in string.gmatch(string.sub(snap, 22), '[^|]+') do f[#f + 1] = tonumber(x) end
local lim, rem = f[1], f[2]
if rem == nil or f[5] == nil or rem < 0 then return {1, 0} end
local reset = f[5] / 1e6
local now, n, assumed = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local stamp = string.sub(snap, 1, 20)
local el = now - math.ceil(tonumber(stamp) / 1e6)
local level
if el <= 0 then
  level = rem
elseif reset < 0 then
  if el >= assumed then return {1, 0} end
  level = rem
elseif el >= reset then
  if lim < 0 then return {1, 0} end
  level = lim
elseif lim <= rem then
  level = rem
else
  level = rem + (lim - rem) * el / reset
end
local rate = 0
if reset > 0 and lim > rem then
  rate = (lim - rem) / reset
elseif lim > 0 then
  rate = lim / assumed
end
local cap = math.max(lim, rem)
local at = now
local b = redis.call('HMGET', KEYS[2], 'l', 'a', 'o')
if b[1] then
  local bl, ba = tonumber(b[1]), tonumber(b[2])
  if now > ba then bl = math.min(bl + rate * (now - ba), cap) end
  if b[3] ~= stamp then bl = math.min(bl, level) end
  level = bl
  at = math.max(now, ba)
end
local ok, wait = 1, 0
if n < 0 then
  level = math.min(level - n, cap)
elseif level >= n then
  level = level - n
else
  ok, wait = 0, -1
  if rate > 0 then wait = math.ceil((n - level) / rate - 1e-6) end
end
redis.call('HSET', KEYS[2], 'l', string.format('%.17g', level), 'a', string.format('%.17g', at), 'o', stamp)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {ok, wait}
`)
