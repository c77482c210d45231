--[[
  Renames a tenant (issue 12). The id stays (it is in every key and every agent's config); only
  the display name changes. One audit line in the tenant's trail. The reply is stored under the
  op id (SPEC F3): a retried job returns the first reply.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] new name (trimmed)   ARGV[3] now (ms)   ARGV[4] actor (user id)
  ARGV[5] op id ('' = none)
  Returns JSON {id, name, previousName, createdAt} or {error: 'UNKNOWN_TENANT'}.
]]
local op = ARGV[5] or ''
local done = storedResult(op)
if done then return done end
if redis.call('EXISTS', K_TENANT) == 0 then return storeResult(op, { error = 'UNKNOWN_TENANT' }) end
local before = redis.call('HGET', K_TENANT, 'name') or TENANT_ID
redis.call('HSET', K_TENANT, 'name', ARGV[2])
redis.call('XADD', K_AUDIT, '*', 'ts', ARGV[3], 'holder', '', 'holderKind', '', 'type', '', 'action', 'tenant-renamed',
  'before', before, 'after', ARGV[2], 'reason', '', 'actor', ARGV[4], 'cause', op)
return storeResult(op, { id = TENANT_ID, name = ARGV[2], previousName = before, createdAt = tonumber(redis.call('HGET', K_TENANT, 'createdAt') or '0') })
