--[[
  Builds (or repairs) a tenant's Client paging index (K_CLIENT_INDEX, a sorted set whose scores
  are all 0, so ZRANGE BYLEX pages it in client-id order: SPEC H1, docs/client-pages.md) from
  the tenant's clients set, in bounded steps. hello-1.lua adds every new registration to the
  index and purge-uninstalled-1.lua removes every purged Client, so this walk is needed only for
  tenants registered before the index existed, or after a count mismatch (a gateway of an
  older version enrolled Clients without indexing them: src/licensing/client-index.ts).

  Two phases, their progress in K_RETENTION (clientIndexPhase, clientIndexCursor), done when
  clientIndexed = '1':
    add   — SSCAN the clients set, ZADD each id (idempotent). A Client enrolled during the walk
            was indexed by its Hello; SSCAN returns every member present for the whole walk.
    prune — walk the index by id (BYLEX cursor), ZREM ids no longer in the clients set.
  Each call is atomic, so a step never indexes an id that is not in the set at that moment.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] entries examined per call (≤ 1000)   ARGV[3] '1': start again
  Returns JSON {indexed: true when index and set hold the same ids, added, removed}.
]]
local n = tonumber(ARGV[2])
if ARGV[3] == '1' then
  redis.call('HDEL', K_RETENTION, 'clientIndexed', 'clientIndexCursor')
  redis.call('HSET', K_RETENTION, 'clientIndexPhase', 'add')
end
if redis.call('HGET', K_RETENTION, 'clientIndexed') == '1' then
  return cjson.encode({ indexed = true, added = 0, removed = 0 })
end
local phase = redis.call('HGET', K_RETENTION, 'clientIndexPhase') or 'add'
local cursor = redis.call('HGET', K_RETENTION, 'clientIndexCursor') or ''
local added, removed = 0, 0

if phase == 'add' then
  local r = redis.call('SSCAN', K_CLIENTS, cursor == '' and '0' or cursor, 'COUNT', n)
  for _, id in ipairs(r[2]) do
    added = added + redis.call('ZADD', K_CLIENT_INDEX, 0, id)
  end
  if r[1] == '0' then
    redis.call('HSET', K_RETENTION, 'clientIndexPhase', 'prune')
    redis.call('HDEL', K_RETENTION, 'clientIndexCursor')
  else
    redis.call('HSET', K_RETENTION, 'clientIndexCursor', r[1])
  end
else
  local ids = redis.call('ZRANGE', K_CLIENT_INDEX, cursor == '' and '-' or ('(' .. cursor), '+', 'BYLEX', 'LIMIT', 0, n)
  for _, id in ipairs(ids) do
    if redis.call('SISMEMBER', K_CLIENTS, id) == 0 then
      removed = removed + redis.call('ZREM', K_CLIENT_INDEX, id)
    end
  end
  if #ids < n then
    redis.call('HSET', K_RETENTION, 'clientIndexed', '1')
    redis.call('HDEL', K_RETENTION, 'clientIndexPhase', 'clientIndexCursor')
    return cjson.encode({ indexed = true, added = added, removed = removed })
  end
  redis.call('HSET', K_RETENTION, 'clientIndexCursor', ids[#ids])
end
return cjson.encode({ indexed = false, added = added, removed = removed })
