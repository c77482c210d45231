--[[
  Creates a PAM user in a tenant (SPEC P1). Idempotent for the same id and name.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] user id   ARGV[3] name   ARGV[4] now (ms)
  Returns {'OK'} or {'UNKNOWN_TENANT'} / {'USER_EXISTS'}.
]]
if redis.call('EXISTS', K_TENANT) == 0 then return {'UNKNOWN_TENANT'} end
local uk = kUser(ARGV[2])
local name = redis.call('HGET', uk, 'name')
if name then
  if name == ARGV[3] then return {'OK'} end
  return {'USER_EXISTS'}
end
redis.call('HSET', uk, 'name', ARGV[3], 'createdAt', ARGV[4], 'type', '', 'key', '')
redis.call('SADD', K_USERS, ARGV[2])
return {'OK'}
