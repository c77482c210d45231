--[[
  Creates a PAM user in a tenant (SPEC P1). Idempotent for the same id and name, and by op id
  (SPEC F3): a retried job gets the user its first run created, although the caller picked a
  new random id for the retry.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] user id   ARGV[3] name   ARGV[4] now (ms)   ARGV[5] op id ('' = none)
  Returns JSON {id, name} or {error: 'UNKNOWN_TENANT' | 'USER_EXISTS'}.
]]
local id, name, op = ARGV[2], ARGV[3], ARGV[5]
local done = storedResult(op)
if done then return done end
if redis.call('EXISTS', K_TENANT) == 0 then return storeResult(op, { error = 'UNKNOWN_TENANT' }) end
local uk = kUser(id)
local existing = redis.call('HGET', uk, 'name')
if existing then
  if existing == name then return storeResult(op, { id = id, name = name }) end
  return storeResult(op, { error = 'USER_EXISTS' })
end
redis.call('HSET', uk, 'name', name, 'createdAt', ARGV[4], 'type', '', 'key', '')
redis.call('SADD', K_USERS, id)
return storeResult(op, { id = id, name = name })
