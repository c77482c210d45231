-- Pool arithmetic and license moves inside one tenant. Membership (holders sets) is the truth
-- (SPEC L5): assigned = SCARD(holders), available = granted - assigned, never stored apart.
local function freeCount(t)
  local granted = tonumber(redis.call('HGET', K_POOL, t) or '0')
  return granted - redis.call('SCARD', kHolders(t))
end

-- Gives a license of type t to clientId and queues StartMonitoring. Caller checked room.
local function assignLicense(clientId, t)
  redis.call('SADD', kHolders(t), clientId)
  redis.call('ZREM', kWaiting(t), clientId)
  redis.call('HSET', kClient(clientId), 'type', t, 'reason', '', 'waitType', '')
  appendCommand(clientId, 'start', t)
end

-- Puts clientId in the waiting queue of type t (keeps its place if already there).
local function waitForLicense(clientId, t, now, reason)
  redis.call('ZADD', kWaiting(t), 'NX', now, clientId)
  redis.call('HSET', kClient(clientId), 'type', '', 'reason', reason, 'waitType', t)
end

-- Leaves whatever queue clientId waits in.
local function leaveQueue(clientId)
  local w = redis.call('HGET', kClient(clientId), 'waitType')
  if w and w ~= '' then redis.call('ZREM', kWaiting(w), clientId) end
end

-- Hands free licenses of type t to waiting Clients: longest-waiting first, online Clients
-- before offline ones (SPEC C9). Stale entries (uninstalled, licensed, pinned by an admin,
-- or now waiting for another type) are dropped. Returns the promoted client ids.
local function promoteWaiting(t)
  local promoted = {}
  local scan = 256
  while freeCount(t) > 0 do
    local ids = redis.call('ZRANGE', kWaiting(t), 0, scan - 1)
    if #ids == 0 then break end
    local pick = nil
    local firstValid = nil
    for _, id in ipairs(ids) do
      local c = redis.call('HMGET', kClient(id), 'status', 'type', 'reason', 'waitType')
      if c[1] ~= 'active' or (c[2] and c[2] ~= '') or c[3] == 'UNASSIGNED_BY_ADMIN' or c[4] ~= t then
        redis.call('ZREM', kWaiting(t), id)
      else
        if not firstValid then firstValid = id end
        if redis.call('HEXISTS', K_ONLINE, id) == 1 then pick = id break end
      end
    end
    pick = pick or firstValid
    if pick then
      assignLicense(pick, t)
      promoted[#promoted + 1] = pick
    end
  end
  return promoted
end
