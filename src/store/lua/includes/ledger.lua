-- The license ledger of one tenant (SPEC L3-L5, S4, C9). Licenses come from serial keys: the
-- tenant holds an allocation per key and type (alloc hash), and every license held is charged
-- to one key (kh:<key>:<type> sets), so that exactly the licenses of an expiring key can be
-- found. Membership is the truth: assigned = SCARD(holders:<type>), never a stored counter.

local function holderKey(t, id)
  if t == SEAT then return kUser(id) end
  return kClient(id)
end

-- { {id=, exp=}... } for every key with an allocation or holders in this tenant.
local function tenantKeys()
  local flat = redis.call('HGETALL', K_KEYS)
  local out = {}
  for i = 1, #flat, 2 do out[#out + 1] = { id = flat[i], exp = tonumber(flat[i + 1]) } end
  return out
end

local function allocOf(keyId, t)
  return tonumber(redis.call('HGET', K_ALLOC, keyId .. '|' .. t) or '0')
end

-- A key can take new charges until it expires (exp 0 = never).
local function usable(k)
  return k.exp == 0 or k.exp > CTX.now
end

local function spareOf(k, t)
  if not usable(k) then return 0 end
  return allocOf(k.id, t) - redis.call('SCARD', kKeyHolders(k.id, t))
end

-- Licenses of type t this tenant holds from all its keys.
local function grantedCount(t)
  local n = 0
  for _, k in ipairs(tenantKeys()) do n = n + allocOf(k.id, t) end
  return n
end

-- Licenses of type t that can be given out now.
local function freeCount(t)
  local n = 0
  for _, k in ipairs(tenantKeys()) do
    local s = spareOf(k, t)
    if s > 0 then n = n + s end
  end
  return n
end

-- The key a new license of type t is charged to: one with room, expiring last.
local function chooseKey(t)
  local best, bestExp = nil, -1
  for _, k in ipairs(tenantKeys()) do
    if spareOf(k, t) > 0 then
      local e = (k.exp == 0) and math.huge or k.exp
      if e > bestExp then best, bestExp = k.id, e end
    end
  end
  return best
end

-- Usage thresholds that raise a pool.usage event when crossed upwards (SPEC A6).
local USAGE_THRESHOLDS = {85, 90, 99}

local function isOnline(t, id)
  return t ~= SEAT and redis.call('HEXISTS', K_ONLINE, id) == 1
end

-- Gives holder id a license of type t, charged to the best key. Returns false when none is free.
-- Endpoint licenses queue StartMonitoring in the Client's command log, unless `inWelcome`: the
-- Client's own Hello assigns it and the Welcome it is about to get says so (see hello-1.lua).
local function assignLicense(id, t, reason, inWelcome)
  local keyId = chooseKey(t)
  if not keyId then return false end
  redis.call('SADD', kHolders(t), id)
  redis.call('SADD', kKeyHolders(keyId, t), id)
  local hk = holderKey(t, id)
  redis.call('HSET', hk, 'type', t, 'key', keyId, 'reason', '', 'waitType', '')
  if t ~= SEAT then
    redis.call('ZREM', kWaiting(t), id)
    if not inWelcome then appendCommand(id, 'start', t) end
    if not isOnline(t, id) then
      redis.call('ZADD', kOfflineHolders(t), tonumber(redis.call('HGET', hk, 'lastSeen') or '0'), id)
    end
  end
  audit(id, t, 'assigned', '', t, reason)
  emitEvent('license.assigned', { holder = id, type = t, reason = reason, actor = CTX.actor, cause = CTX.cause })
  local granted = grantedCount(t)
  local assigned = redis.call('SCARD', kHolders(t))
  if granted > 0 then
    for _, th in ipairs(USAGE_THRESHOLDS) do
      if (assigned - 1) * 100 < th * granted and assigned * 100 >= th * granted then
        emitEvent('pool.usage', { type = t, percent = th, assigned = assigned, granted = granted })
      end
    end
  end
  if freeCount(t) == 0 then emitEvent('pool.exhausted', { type = t, assigned = assigned, granted = granted }) end
  return true
end

-- Takes holder id's license of type t away. Endpoint licenses queue StopMonitoring(stopReason)
-- and leave `state` as the Client's unlicensed reason.
local function unassignLicense(id, t, stopReason, state)
  local hk = holderKey(t, id)
  local keyId = redis.call('HGET', hk, 'key') or ''
  redis.call('SREM', kHolders(t), id)
  if keyId ~= '' then redis.call('SREM', kKeyHolders(keyId, t), id) end
  redis.call('HSET', hk, 'type', '', 'key', '', 'reason', state)
  if t ~= SEAT then
    appendCommand(id, 'stop', stopReason)
    redis.call('ZREM', kOfflineHolders(t), id)
  end
  audit(id, t, 'unassigned', t, '', stopReason)
  emitEvent('license.unassigned', { holder = id, type = t, reason = stopReason, actor = CTX.actor, cause = CTX.cause })
end

-- SPEC C11: when the tenant's reclaim policy is on, takes the license of the Client offline
-- longest, if offline for at least the policy's days, so that `forId` can have it. Returns the
-- reclaimed Client's id, or nil.
local function reclaimFor(t)
  if t == SEAT then return nil end
  local days = tonumber(redis.call('HGET', K_TENANT, 'reclaimAfterDays') or '0')
  if days <= 0 then return nil end
  local oldest = redis.call('ZRANGE', kOfflineHolders(t), 0, 0, 'WITHSCORES')
  if #oldest == 0 then return nil end
  local victim, seen = oldest[1], tonumber(oldest[2])
  if seen > CTX.now - days * 86400000 or isOnline(t, victim) then return nil end
  unassignLicense(victim, t, 'RECLAIMED', 'NO_LICENSE_AVAILABLE')
  return victim
end

-- Puts Client id in the waiting queue of type t, keeping its place if already there (C9).
local function waitForLicense(id, t, reason)
  redis.call('ZADD', kWaiting(t), 'NX', CTX.now, id)
  redis.call('HSET', kClient(id), 'type', '', 'key', '', 'reason', reason, 'waitType', t)
end

-- Leaves whatever queue Client id waits in.
local function leaveQueue(id)
  local w = redis.call('HGET', kClient(id), 'waitType')
  if w and w ~= '' then redis.call('ZREM', kWaiting(w), id) end
end

-- Hands free licenses of type t to waiting Clients: longest-waiting first, online before
-- offline (C9). Stale entries are dropped. Returns the promoted client ids.
local function promoteWaiting(t)
  local promoted = {}
  if t == SEAT then return promoted end
  local scan = 256
  while freeCount(t) > 0 do
    local ids = redis.call('ZRANGE', kWaiting(t), 0, scan - 1)
    if #ids == 0 then break end
    local pick, firstValid = nil, nil
    for _, id in ipairs(ids) do
      local c = redis.call('HMGET', kClient(id), 'status', 'type', 'reason', 'waitType')
      if c[1] ~= 'active' or (c[2] and c[2] ~= '') or c[3] == 'UNASSIGNED_BY_ADMIN' or c[4] ~= t then
        redis.call('ZREM', kWaiting(t), id)
      else
        firstValid = firstValid or id
        if redis.call('HEXISTS', K_ONLINE, id) == 1 then pick = id break end
      end
    end
    pick = pick or firstValid
    if pick then
      if not assignLicense(pick, t, 'waiting') then break end
      promoted[#promoted + 1] = pick
    end
  end
  return promoted
end

-- Order in which holders lose a license (T4): offline before online, then least recently seen.
local function victimOrder(t, ids)
  local rank = {}
  for _, id in ipairs(ids) do
    local online = (t ~= SEAT) and redis.call('HEXISTS', K_ONLINE, id) == 1
    local seen = tonumber(redis.call('HGET', holderKey(t, id), 'lastSeen') or '0')
    rank[id] = (online and 1e15 or 0) + seen
  end
  table.sort(ids, function(a, b)
    if rank[a] == rank[b] then return a < b end
    return rank[a] < rank[b]
  end)
  return ids
end

-- Makes every key's holders of type t fit its allocation (after an allocation shrank or a key
-- expired): displaced holders move to keys with room, silently; those that cannot are
-- unassigned in victim order with StopMonitoring(stopReason) and wait for a license again
-- (C9). Returns the ids that lost their license.
local function rebalance(t, stopReason, state)
  local displaced = {}
  for _, k in ipairs(tenantKeys()) do
    local kh = kKeyHolders(k.id, t)
    local cap = usable(k) and allocOf(k.id, t) or 0
    local n = redis.call('SCARD', kh)
    if n > cap then
      local members = victimOrder(t, redis.call('SMEMBERS', kh))
      for i = 1, n - cap do
        redis.call('SREM', kh, members[i])
        displaced[#displaced + 1] = members[i]
      end
    end
  end
  local lost = {}
  if #displaced == 0 then return lost end
  displaced = victimOrder(t, displaced)
  local drop = #displaced - freeCount(t)
  for i, id in ipairs(displaced) do
    if i <= drop then
      unassignLicense(id, t, stopReason, state)
      if t ~= SEAT then waitForLicense(id, t, state) end
      lost[#lost + 1] = id
    else
      local keyId = chooseKey(t)
      redis.call('SADD', kKeyHolders(keyId, t), id)
      redis.call('HSET', holderKey(t, id), 'key', keyId)
    end
  end
  return lost
end

-- Forgets keys with neither an allocation nor holders here.
local function pruneKeys()
  for _, k in ipairs(tenantKeys()) do
    local used = false
    for _, t in ipairs(ALL_TYPES) do
      if allocOf(k.id, t) > 0 or redis.call('SCARD', kKeyHolders(k.id, t)) > 0 then used = true break end
    end
    if not used then redis.call('HDEL', K_KEYS, k.id) end
  end
end

-- Idempotent saga steps: the stored result of an op id, or nil when not yet applied.
local function opResult(opId)
  return redis.call('HGET', K_OPS, opId)
end
local function recordOp(opId, result)
  local json = cjson.encode(result)
  redis.call('HSET', K_OPS, opId, json)
  return json
end

-- A Client's state as admin jobs return it (SPEC A4).
local function clientStateOf(id)
  local c = redis.call('HMGET', kClient(id), 'status', 'type', 'reason', 'lastSeen')
  return {
    status = (c[1] == 'uninstalled') and 'uninstalled' or 'active',
    online = redis.call('HEXISTS', K_ONLINE, id) == 1,
    license = (c[2] and c[2] ~= '') and c[2] or cjson.null,
    reason = c[3] or '',
    lastSeen = tonumber(c[4] or '0'),
  }
end
