--[[
  Moves a serial key through its end of life in the default tenant (SPEC S4):
  'expiring'/'removing' first (the key still counts as active while its licenses are withdrawn
  tenant by tenant), then 'expired'/'removed' once every tenant gave its share back, when its
  grant records are deleted. The end is audited once (A5): a line per license type the key
  carried (holder = key id, action key-expired | key-removed) and one per tenant grant withdrawn
  (holder = `<tenant>|<key id>`, action grant-withdrawn); before = licenses, after = 0.

  KEYS[1] default tenant hash (routing)
  ARGV[1] default tenant base   ARGV[2] key id   ARGV[3] new status   ARGV[4] now (ms)
  ARGV[5] actor (default 'system')   ARGV[6] cause
  Returns JSON {status: previous status, tenants: [tenants holding grants from the key]} or
  {error: 'SERIAL_KEY_NOT_FOUND'}.
]]
local keyId, status = ARGV[2], ARGV[3]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[4]), ARGV[5] or 'system', ARGV[6] or ''
local raw = redis.call('HGET', K_SERIALS, keyId)
if not raw then return cjson.encode({ error = 'SERIAL_KEY_NOT_FOUND' }) end
local rec = cjson.decode(raw)
local previous = rec.status
local ended = status == 'expired' or status == 'removed'
local ending = ended and previous ~= 'expired' and previous ~= 'removed'
local why = (status == 'expired' or status == 'expiring') and 'KEY_EXPIRED' or 'KEY_REMOVED'
local tenants, seen = {}, {}
local flat = redis.call('HGETALL', K_GRANTS)
for i = 1, #flat, 2 do
  local tenant, k, t = string.match(flat[i], '^(.-)|(.-)|(.*)$')
  if k == keyId then
    if not seen[tenant] then seen[tenant] = true tenants[#tenants + 1] = tenant end
    if ended then
      if ending then auditLine(tenant .. '|' .. keyId, t, 'grant-withdrawn', flat[i + 1], '0', why) end
      redis.call('HDEL', K_GRANTS, flat[i])
    end
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
if ending then
  for _, t in ipairs(ALL_TYPES) do
    local n = tonumber((rec.payload.licenses or {})[t] or 0) or 0
    if n > 0 then auditLine(keyId, t, 'key-' .. status, tostring(n), '0', why) end
  end
end
return cjson.encode({ status = previous, tenants = tenants })
