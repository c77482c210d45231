--[[
  Sets a tenant's licensing policy (SPEC C11, C12). Fields left out keep their value.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] reclaim after days ('' = keep, '0' = off)
  ARGV[3] free non-persistent Clients on disconnect ('' = keep, '1' | '0')
  Returns JSON {reclaimAfterDays, freeNonPersistentOnDisconnect} or {error: 'UNKNOWN_TENANT'}.
]]
if redis.call('EXISTS', K_TENANT) == 0 then return cjson.encode({ error = 'UNKNOWN_TENANT' }) end
if ARGV[2] ~= '' then redis.call('HSET', K_TENANT, 'reclaimAfterDays', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', K_TENANT, 'freeNonPersistent', ARGV[3]) end
return cjson.encode({
  reclaimAfterDays = tonumber(redis.call('HGET', K_TENANT, 'reclaimAfterDays') or '0'),
  freeNonPersistentOnDisconnect = redis.call('HGET', K_TENANT, 'freeNonPersistent') == '1',
})
