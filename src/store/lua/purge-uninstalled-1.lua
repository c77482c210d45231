--[[
  Purges uninstalled Clients whose retention has passed (SPEC Z5, C8; docs/retention.md): their
  hash, their command log and every membership of them in the tenant, so that a tenant's state
  does not grow with every agent ever uninstalled. One bounded batch, atomic in the tenant slot.

  Never purged: a Client that is not uninstalled (any more), one that connected after its
  uninstall within the retention (it came back to learn it: F4), one connected now, and one that
  still holds or waits for anything (a license type, a holders or key-holders membership, a
  waiting queue) — such a record is inconsistent with C8 and left for an operator
  (check-invariants reports it); it is looked at again one retention later.

  Candidates come from the uninstalled index (K_UNINSTALLED, written by uninstall-1.lua). Clients
  uninstalled before that index existed are added to it by a bounded walk of the tenant's
  clients set (SSCAN, `scan` entries per call; its cursor kept in K_RETENTION) until the walk
  has gone round once.

  A purged id is added to K_RELEASED_IDS: its claim in the global client→tenant map (another
  slot) is released afterwards by release-client-ids-1.lua (src/licensing/retention.ts), so the
  id can enroll again.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] now (ms)   ARGV[3] cutoff (ms): purge what was uninstalled, and
  last seen, at or before it   ARGV[4] at most this many candidates examined (fewer when the work budget of
  includes/ledger.lua runs out first: each call stays within a few ms, SPEC F6)
  ARGV[5] clients examined by the index backfill walk (0: none)
  Returns JSON {purged: [client ids], kept: n, more: true when candidates were left for the
  next call, indexed: true once every uninstalled Client is in the index}.
]]
local now, cutoff, batch, scan = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
CTX.now, CTX.actor, CTX.cause = now, 'system', 'retention'

-- The backfill: Clients uninstalled before the index existed.
local indexed = redis.call('HGET', K_RETENTION, 'indexed') == '1'
if not indexed and scan > 0 then
  local cursor = redis.call('HGET', K_RETENTION, 'indexCursor') or '0'
  local r = redis.call('SSCAN', K_CLIENTS, cursor, 'COUNT', scan)
  for _, id in ipairs(r[2]) do
    local c = redis.call('HMGET', kClient(id), 'status', 'uninstalledAt')
    if c[1] == 'uninstalled' then redis.call('ZADD', K_UNINSTALLED, 'NX', tonumber(c[2] or '0') or 0, id) end
  end
  if r[1] == '0' then
    redis.call('HSET', K_RETENTION, 'indexed', '1')
    redis.call('HDEL', K_RETENTION, 'indexCursor')
    indexed = true
  else
    redis.call('HSET', K_RETENTION, 'indexCursor', r[1])
  end
end

local function holdsAnything(id, held, waitType)
  if (held and held ~= '') or (waitType and waitType ~= '') then return true end
  if redis.call('HEXISTS', K_ONLINE, id) == 1 then return true end
  for _, t in ipairs(ALL_TYPES) do
    if redis.call('SISMEMBER', kHolders(t), id) == 1 then return true end
    if redis.call('ZSCORE', kWaiting(t), id) then return true end
  end
  for _, k in ipairs(redis.call('HKEYS', K_KEYS)) do
    for _, t in ipairs(ALL_TYPES) do
      if redis.call('SISMEMBER', kKeyHolders(k, t), id) == 1 then return true end
    end
  end
  return false
end

local purged, kept, cut = {}, 0, false
local ids = redis.call('ZRANGE', K_UNINSTALLED, '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, batch)
for _, id in ipairs(ids) do
  -- F6: the ledger's work budget (includes/ledger.lua: changes, entries, WORK_MS of time) bounds
  -- this call whatever the batch; the caller calls again for the rest.
  if not workLeft() then cut = true break end
  WORK.scans = WORK.scans - 1
  local ck = kClient(id)
  local c = redis.call('HMGET', ck, 'status', 'uninstalledAt', 'lastSeen', 'type', 'waitType')
  local last = math.max(tonumber(c[2] or '0') or 0, tonumber(c[3] or '0') or 0)
  if c[1] ~= 'uninstalled' then
    -- Gone, or active again: nothing of the uninstall to keep.
    redis.call('ZREM', K_UNINSTALLED, id)
  elseif last > cutoff then
    -- It came back after its uninstall (served its Uninstall, F4): its retention starts again.
    redis.call('ZADD', K_UNINSTALLED, last, id)
    kept = kept + 1
  elseif holdsAnything(id, c[4], c[5]) then
    redis.call('ZADD', K_UNINSTALLED, now, id)
    kept = kept + 1
  else
    redis.call('DEL', ck, kCommands(id))
    redis.call('SREM', K_CLIENTS, id)
    redis.call('ZREM', K_CLIENT_INDEX, id)
    for _, t in ipairs(ALL_TYPES) do redis.call('ZREM', kOfflineHolders(t), id) end
    redis.call('ZREM', K_UNINSTALLED, id)
    redis.call('SADD', K_RELEASED_IDS, id)
    audit(id, '', 'purged', 'uninstalled', '', 'UNINSTALLED_RETENTION')
    WORK.changes = WORK.changes - 1
    purged[#purged + 1] = id
  end
end
return cjson.encode({ purged = purged, kept = kept, more = cut or #ids == batch, indexed = indexed })
