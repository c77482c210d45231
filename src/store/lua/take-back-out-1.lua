--[[
  First step of taking licenses back from a tenant (SPEC T4): lowers the tenant's allocation.
  Refused when it would go below what is assigned, unless forced; then licenses are unassigned
  from the tenant's Clients longest-offline first, then least recently seen, whichever key they
  were charged to (StopMonitoring TAKEN_BACK; they wait for a license again, C9). Spare
  allocation is returned first, then allocation in use, from the keys that expire first; a
  Client keeping its license is re-charged, silently, to fill the room a victim left in a key
  that keeps its allocation. The second step (take-back-in) returns the licenses to the default
  tenant; a crash in between leaves capacity unused. Idempotent by op id.

  Bounded (F6): the allocation goes down one license at a time, each paired with the
  unassignment that makes room for it (assigned ≤ granted between calls), until this call's
  work budget runs out; then it returns {done: false} and the caller calls again with the same
  arguments. Progress lives in work:<op id>; the unassigned ids, in order, in work-lost:<op id>.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] op id   ARGV[3] type   ARGV[4] count   ARGV[5] force '1'|'0'
  ARGV[6] now (ms)   ARGV[7] actor   ARGV[8] cause
  Returns JSON {done: false} while in progress, then {done: true, parts: [{key, n}], lostCount}
  (the ids: LRANGE work-lost:<op id>), or {error: CODE, granted, assigned}, or
  {error: 'UNKNOWN_TENANT'} when the tenant was deleted after the take-back checked it (nothing
  is written into the deleted tenant's slot).
]]
local opId, t, count, force = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1'
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[6]), ARGV[7], ARGV[8]
-- Results stored before op-results.lua (the ops hash) still answer their retries.
local done = storedResult(opId) or opResult(opId)
if done then return done end
local wk, lostKey = kWork(opId), kWorkLost(opId)
if redis.call('EXISTS', wk) == 0 then
  if redis.call('EXISTS', K_TENANT) == 0 then return cjson.encode({ error = 'UNKNOWN_TENANT' }) end
  local granted = grantedCount(t)
  local assigned = redis.call('SCARD', kHolders(t))
  if count > granted then return cjson.encode({ error = 'NOT_ENOUGH_LICENSES', granted = granted, assigned = assigned }) end
  if granted - count < assigned and not force then
    return cjson.encode({ error = 'LICENSES_IN_USE', granted = granted, assigned = assigned })
  end
  redis.call('HSET', wk, 'left', count, 'granted', granted)
end
local left = tonumber(redis.call('HGET', wk, 'left'))

local keys, byId = tenantKeys(), {}
table.sort(keys, function(a, b)
  local ea = (a.exp == 0) and math.huge or a.exp
  local eb = (b.exp == 0) and math.huge or b.exp
  if ea == eb then return a.id < b.id end
  return ea < eb
end)
for _, k in ipairs(keys) do byId[k.id] = k end

local function lower(keyId, n)
  local field = keyId .. '|' .. t
  if redis.call('HINCRBY', K_ALLOC, field, -n) <= 0 then redis.call('HDEL', K_ALLOC, field) end
  redis.call('HINCRBY', wk, 'part:' .. keyId, n)
  left = left - n
end

while left > 0 and workLeft() do
  -- Spare allocation first (nobody loses anything), from the key that expires first.
  local spareKey, spare, first = nil, 0, nil
  for _, k in ipairs(keys) do
    local a = allocOf(k.id, t)
    if a > 0 then
      first = first or k
      local s = a - redis.call('SCARD', kKeyHolders(k.id, t))
      if s > 0 then
        spareKey, spare = k.id, s
        break
      end
    end
  end
  if spareKey then
    lower(spareKey, math.min(spare, left))
  elseif not first then
    -- Nothing left to take (a concurrent take-back took it): stop short.
    left = 0
  else
    local id = nextTakeBackVictim(t, opId)
    if not id then break end
    local from = byId[redis.call('HGET', holderKey(t, id), 'key') or '']
    unassignLicense(id, t, 'TAKEN_BACK', 'NO_LICENSE_AVAILABLE')
    if t ~= SEAT then waitForLicense(id, t, 'NO_LICENSE_AVAILABLE') end
    redis.call('RPUSH', lostKey, id)
    WORK.scans = WORK.scans - 1
    if from and allocOf(from.id, t) > 0 then
      if from.id == first.id or not usable(from) then
        lower(from.id, 1)
      else
        -- Return the license from the key that expires first; one of its holders takes the
        -- victim's place in the key that keeps its allocation.
        lower(first.id, 1)
        local fk = kKeyHolders(first.id, t)
        if redis.call('SCARD', fk) > allocOf(first.id, t) then recharge(redis.call('SRANDMEMBER', fk), t, first.id, from.id) end
      end
    end
  end
end
redis.call('HSET', wk, 'left', left)
ringAppended()
if left > 0 then return cjson.encode({ done = false }) end

local parts, taken = {}, 0
local flat = redis.call('HGETALL', wk)
for i = 1, #flat, 2 do
  local keyId = string.match(flat[i], '^part:(.*)$')
  if keyId then
    parts[#parts + 1] = { key = keyId, n = tonumber(flat[i + 1]) }
    taken = taken + tonumber(flat[i + 1])
  end
end
local granted = tonumber(redis.call('HGET', wk, 'granted'))
pruneKeys()
audit('', t, 'taken-back', tostring(granted), tostring(granted - taken), force and 'force' or '')
-- UNLINK: the ranking may still hold most of the tenant's holders; freeing it is not this call's work.
redis.call('UNLINK', wk, kVictims(opId))
-- The ids it unassigned are kept as long as its result (Z5: nothing grows for ever).
redis.call('PEXPIRE', lostKey, OP_RESULT_TTL_MS)
return storeResult(opId, { done = true, parts = parts, lostCount = redis.call('LLEN', lostKey) })
