-- The license ledger of one tenant (SPEC L3-L5, S4, C9). Licenses come from serial keys: the
-- tenant holds an allocation per key and type (alloc hash), and every license held is charged
-- to one key (kh:<key>:<type> sets), so that exactly the licenses of an expiring key can be
-- found. Membership is the truth: assigned = SCARD(holders:<type>), never a stored counter.

local function holderKey(t, id)
  if t == SEAT then return kUser(id) end
  return kClient(id)
end

-- SPEC F6: one script call does a bounded amount of work, so that none holds Redis for long
-- (< 50 ms with 100,000 Clients in a tenant). License changes (assign, unassign, re-charge) and
-- entries examined (waiting Clients, holders ranked) count against this call's budget, and so
-- does time: WORK_MS of wall clock (Redis TIME) from the first check, so that a call stays short
-- even when the machine is busy. A batched operation that runs out stops, records where it is,
-- and is called again (docs/bounded-work.md). Sizes measured with bench/scenarios/lua-bounds.ts.
local WORK_CHANGES, WORK_SCANS, WORK_MS = 500, 5000, 5
local WORK = { changes = WORK_CHANGES, scans = WORK_SCANS, deadline = nil, checks = 0 }
local function clockMicros()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function workLeft()
  if WORK.changes <= 0 or WORK.scans <= 0 then return false end
  WORK.checks = WORK.checks + 1
  if not WORK.deadline then
    WORK.deadline = clockMicros() + WORK_MS * 1000
  elseif WORK.checks % 4 == 0 and clockMicros() > WORK.deadline then
    WORK.changes = 0
    return false
  end
  return true
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

-- chooseKey, freeCount and grantedCount of type t in one pass over the tenant's keys (what
-- assignLicense needs of the pool: one read of each key instead of three).
local function poolOf(t)
  local best, bestExp, free, granted = nil, -1, 0, 0
  for _, k in ipairs(tenantKeys()) do
    local alloc = allocOf(k.id, t)
    granted = granted + alloc
    if usable(k) then
      local s = alloc - redis.call('SCARD', kKeyHolders(k.id, t))
      if s > 0 then
        free = free + s
        local e = (k.exp == 0) and math.huge or k.exp
        if e > bestExp then best, bestExp = k.id, e end
      end
    end
  end
  return best, free, granted
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
  local keyId, free, granted = poolOf(t)
  if not keyId then return false end
  WORK.changes = WORK.changes - 1
  redis.call('SADD', kHolders(t), id)
  -- What is free after this charge (freeCount now): one less, unless id was already charged there.
  free = free - redis.call('SADD', kKeyHolders(keyId, t), id)
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
  local assigned = redis.call('SCARD', kHolders(t))
  if granted > 0 then
    for _, th in ipairs(USAGE_THRESHOLDS) do
      if (assigned - 1) * 100 < th * granted and assigned * 100 >= th * granted then
        emitEvent('pool.usage', { type = t, percent = th, assigned = assigned, granted = granted })
      end
    end
  end
  if free == 0 then emitEvent('pool.exhausted', { type = t, assigned = assigned, granted = granted }) end
  return true
end

-- Takes holder id's license of type t away. Endpoint licenses queue StopMonitoring(stopReason)
-- and leave `state` as the Client's unlicensed reason.
local function unassignLicense(id, t, stopReason, state)
  local hk = holderKey(t, id)
  local keyId = redis.call('HGET', hk, 'key') or ''
  WORK.changes = WORK.changes - 1
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

-- Hands free licenses of type t to waiting Clients (C9): online Clients first, each group
-- longest-waiting first; stale entries are dropped. Bounded (F6): one walk over the queue from
-- where the last call stopped — first taking online Clients and stepping over offline ones,
-- then ('any') taking every Client in order — and when this call's budget runs out while
-- licenses are still free, its place is kept in K_PROMOTING (`<phase>:<rank>`), so that the
-- promote script (drainPromotions, and the periodic pass after a crash) goes on from there.
-- Returns the client ids promoted by this call.
local PROMOTE_PAGE = 100
local function promoteWaiting(t)
  local promoted = {}
  if t == SEAT then return promoted end
  local wk = kWaiting(t)
  -- Nobody waits (the common case: every unassign and disconnect of a pool with room asks):
  -- nothing to walk, and no place to keep. Two commands instead of a walk's eight.
  if redis.call('EXISTS', wk) == 0 then
    redis.call('HDEL', K_PROMOTING, t)
    return promoted
  end
  local phase, rank = 'online', 0
  local mark = redis.call('HGET', K_PROMOTING, t)
  if mark then
    local p, r = string.match(mark, '^(%a+):(%d+)$')
    if p then phase, rank = p, tonumber(r) end
  end
  local free = freeCount(t)
  while free > 0 do
    if not workLeft() then
      redis.call('HSET', K_PROMOTING, t, phase .. ':' .. rank)
      return promoted
    end
    local ids = redis.call('ZRANGE', wk, rank, rank + PROMOTE_PAGE - 1)
    if #ids == 0 then
      if phase ~= 'online' then break end
      phase, rank = 'any', 0
    end
    for _, id in ipairs(ids) do
      if free <= 0 or not workLeft() then break end
      WORK.scans = WORK.scans - 1
      local c = redis.call('HMGET', kClient(id), 'status', 'type', 'reason', 'waitType')
      if c[1] ~= 'active' or (c[2] and c[2] ~= '') or c[3] == 'UNASSIGNED_BY_ADMIN' or c[4] ~= t then
        redis.call('ZREM', wk, id)
      elseif phase == 'online' and redis.call('HEXISTS', K_ONLINE, id) == 0 then
        rank = rank + 1
      elseif assignLicense(id, t, 'waiting') then
        promoted[#promoted + 1] = id
        free = free - 1
      else
        free = 0
      end
    end
  end
  redis.call('HDEL', K_PROMOTING, t)
  return promoted
end

-- Where a holder stands in the order licenses are taken away (T4, and S4 among one key's
-- holders): offline before online, then least recently seen. Online ranks start at
-- ONLINE_RANK, above any last-seen time in ms. Seats (users) have no presence: rank 0, id order.
local ONLINE_RANK = 1e13
local function victimRank(t, id)
  if t == SEAT then return 0 end
  local seen = tonumber(redis.call('HGET', kClient(id), 'lastSeen') or '0')
  if redis.call('HEXISTS', K_ONLINE, id) == 1 then return ONLINE_RANK + seen end
  return seen
end

-- Ranks members of the set `src` into the sorted set `vk` by victimRank, continuing the SSCAN
-- whose cursor is `field` of the work hash `wk`, within this call's budget. Returns true once
-- every member was ranked. Online Clients have no index by last seen (it moves with every
-- heartbeat flush), so a ranking is built when one is needed, in bounded chunks (F6).
local RANK_CHUNK = 100
local function rankChunk(t, src, vk, wk, field)
  local cursor = redis.call('HGET', wk, field) or '0'
  if cursor == 'done' then return true end
  while workLeft() do
    local r = redis.call('SSCAN', src, cursor, 'COUNT', RANK_CHUNK)
    WORK.scans = WORK.scans - 1
    for _, id in ipairs(r[2]) do
      redis.call('ZADD', vk, victimRank(t, id), id)
      WORK.scans = WORK.scans - 1
    end
    cursor = r[1]
    if cursor == '0' then
      redis.call('HSET', wk, field, 'done')
      return true
    end
  end
  redis.call('HSET', wk, field, cursor)
  return false
end

-- The next holder of type t, anywhere in the tenant, to lose its license in the forced
-- take-back `op` (T4): the longest offline, from the offline-holders index (exact and live);
-- then every other holder in victimRank order, from a ranking built in chunks. A holder the
-- ranking missed (it came online after its turn) is found by ranking again. Returns nil when
-- this call's budget ran out first.
local function nextTakeBackVictim(t, op)
  if t ~= SEAT then
    local idx = kOfflineHolders(t)
    while workLeft() do
      local head = redis.call('ZRANGE', idx, 0, 0)
      if #head == 0 then break end
      WORK.scans = WORK.scans - 1
      local id = head[1]
      if redis.call('HGET', kClient(id), 'type') == t and redis.call('HEXISTS', K_ONLINE, id) == 0 then return id end
      redis.call('ZREM', idx, id)
    end
  end
  local wk, vk = kWork(op), kVictims(op)
  while workLeft() do
    if rankChunk(t, kHolders(t), vk, wk, 'ranked') then
      local top = redis.call('ZPOPMIN', vk)
      WORK.scans = WORK.scans - 1
      if #top == 0 then
        redis.call('HSET', wk, 'ranked', '0')
      elseif redis.call('HGET', holderKey(t, top[1]), 'type') == t then
        return top[1]
      end
    end
  end
  return nil
end

-- Moves holder id's license of type t from one key's charge to another's, silently: the
-- Client keeps monitoring and nothing is sent (not a license change, so not audited).
local function recharge(id, t, fromKey, toKey)
  redis.call('SMOVE', kKeyHolders(fromKey, t), kKeyHolders(toKey, t), id)
  redis.call('HSET', holderKey(t, id), 'key', toKey)
  WORK.changes = WORK.changes - 1
end

-- Default tenant only: lowers the grant records of `tenant` by each part ({key, n}) and gives
-- the licenses of keys still active back to the default pool (a key that ended meanwhile already
-- dropped its grant records and gives nothing back). Returns how many came back. Used by a
-- take-back's second step and by a grant's compensation (SPEC T4, F2).
local function returnGranted(tenant, t, parts)
  local returned = 0
  for _, p in ipairs(parts) do
    local g = tenant .. '|' .. p.key .. '|' .. t
    if redis.call('HINCRBY', K_GRANTS, g, -p.n) <= 0 then redis.call('HDEL', K_GRANTS, g) end
    local raw = redis.call('HGET', K_SERIALS, p.key)
    local rec = raw and cjson.decode(raw)
    if rec and rec.status == 'active' then
      redis.call('HINCRBY', K_ALLOC, p.key .. '|' .. t, p.n)
      redis.call('HSET', K_KEYS, p.key, rec.exp)
      returned = returned + p.n
    end
  end
  return returned
end

-- An audit line about something other than one holder's license (SPEC A5): a serial key's end,
-- a tenant's grant withdrawn. `subject` names it: a key id, or `<tenant>|<key id>`.
local function auditLine(subject, t, action, before, after, reason)
  redis.call('XADD', K_AUDIT, '*', 'ts', CTX.now, 'holder', subject, 'holderKind', '', 'type', t, 'action', action,
    'before', before, 'after', after, 'reason', reason, 'actor', CTX.actor, 'cause', CTX.cause)
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
