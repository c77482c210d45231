--[[
  Creates a PAM user in a tenant (SPEC P1). Idempotent for the same id and name, and by op id
  (SPEC F3): a retried job gets the user its first run created, although the caller picked a
  new random id for the retry.

  One user per name in a tenant (issue 12): unless the caller named the id, a user whose name
  matches (trimmed, case-insensitive: the caller's lower-cased key, stored as nameKey; users made
  before it have only their name, lower-cased here) refuses the create with USER_EXISTS naming
  that user's id. Checked here, in the same atomic call that creates, so two concurrent creates
  of one name make one user. A scan of the tenant's users: PAM users are people, not Clients.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] user id   ARGV[3] name   ARGV[4] now (ms)   ARGV[5] op id ('' = none)
  ARGV[6] name key (lower-cased name)   ARGV[7] '1' when the caller chose the id (no name check)
  Returns JSON {id, name} or {error: 'UNKNOWN_TENANT' | 'USER_EXISTS', existingId?}.
]]
local id, name, op = ARGV[2], ARGV[3], ARGV[5]
local key, explicit = ARGV[6] or string.lower(name), ARGV[7] == '1'
local done = storedResult(op)
if done then return done end
if redis.call('EXISTS', K_TENANT) == 0 then return storeResult(op, { error = 'UNKNOWN_TENANT' }) end
local uk = kUser(id)
local existing = redis.call('HGET', uk, 'name')
if existing then
  if existing == name then return storeResult(op, { id = id, name = name }) end
  return storeResult(op, { error = 'USER_EXISTS', existingId = id })
end
if not explicit then
  for _, other in ipairs(redis.call('SMEMBERS', K_USERS)) do
    local f = redis.call('HMGET', kUser(other), 'nameKey', 'name')
    if (f[1] or string.lower(f[2] or '')) == key then
      return storeResult(op, { error = 'USER_EXISTS', existingId = other })
    end
  end
end
redis.call('HSET', uk, 'name', name, 'nameKey', key, 'createdAt', ARGV[4], 'type', '', 'key', '')
redis.call('SADD', K_USERS, id)
return storeResult(op, { id = id, name = name })
