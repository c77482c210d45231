--[[
  Moves a serial key through its end of life in the default tenant (SPEC S4):
  'expiring'/'removing' first (the key still counts as active while its licenses are withdrawn
  tenant by tenant), then 'expired'/'removed' once every tenant gave its share back, when its
  grant records are deleted.

  KEYS[1] default tenant hash (routing)
  ARGV[1] default tenant base   ARGV[2] key id   ARGV[3] new status   ARGV[4] now (ms)
  Returns JSON {status: previous status, tenants: [tenants holding grants from the key]} or
  {error: 'SERIAL_KEY_NOT_FOUND'}.
]]
local keyId, status = ARGV[2], ARGV[3]
local raw = redis.call('HGET', K_SERIALS, keyId)
if not raw then return cjson.encode({ error = 'SERIAL_KEY_NOT_FOUND' }) end
local rec = cjson.decode(raw)
local previous = rec.status
local tenants, seen = {}, {}
local flat = redis.call('HGETALL', K_GRANTS)
for i = 1, #flat, 2 do
  local tenant, k = string.match(flat[i], '^(.-)|(.-)|')
  if k == keyId then
    if not seen[tenant] then seen[tenant] = true tenants[#tenants + 1] = tenant end
    if status == 'expired' or status == 'removed' then redis.call('HDEL', K_GRANTS, flat[i]) end
  end
end
-- From now on the default tenant charges nothing new to the key, and late grant steps skip it.
if status ~= 'active' then
  if redis.call('HEXISTS', K_KEYS, keyId) == 1 then redis.call('HSET', K_KEYS, keyId, 1) end
  redis.call('SADD', K_ENDED, keyId)
end
-- Never revive a key that already ended.
if previous ~= 'expired' and previous ~= 'removed' then
  rec.status = status
  if status == 'expired' or status == 'removed' then rec.endedAt = tonumber(ARGV[4]) end
  redis.call('HSET', K_SERIALS, keyId, cjson.encode(rec))
end
return cjson.encode({ status = previous, tenants = tenants })
