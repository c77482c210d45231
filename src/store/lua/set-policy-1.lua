--[[
  Sets a tenant's licensing policy (SPEC C11, C12). Fields left out keep their value. The reply
  is stored under the op id (SPEC F3): a retried job gets its first reply and does not undo a
  change made after it.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] reclaim after days ('' = keep, '0' = off)
  ARGV[3] free non-persistent Clients on disconnect ('' = keep, '1' | '0')   ARGV[4] op id ('' = none)
  Returns JSON {reclaimAfterDays, freeNonPersistentOnDisconnect} or {error: 'UNKNOWN_TENANT'}.
]]
local op = ARGV[4] or ''
local done = storedResult(op)
if done then return done end
if redis.call('EXISTS', K_TENANT) == 0 then return storeResult(op, { error = 'UNKNOWN_TENANT' }) end
if ARGV[2] ~= '' then redis.call('HSET', K_TENANT, 'reclaimAfterDays', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', K_TENANT, 'freeNonPersistent', ARGV[3]) end
return storeResult(op, {
  reclaimAfterDays = tonumber(redis.call('HGET', K_TENANT, 'reclaimAfterDays') or '0'),
  freeNonPersistentOnDisconnect = redis.call('HGET', K_TENANT, 'freeNonPersistent') == '1',
})
