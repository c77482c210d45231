--[[
  First step of granting licenses to a tenant (SPEC T1, T3): reserves them in the default
  tenant, charged to keys that expire last, and records the grant. The second step
  (grant-in) gives them to the tenant. A crash in between leaves capacity unused, never
  oversubscribed; the retried job re-runs both steps, each idempotent by op id.

  KEYS[1] default tenant hash (routing)
  ARGV[1] default tenant base   ARGV[2] op id   ARGV[3] target tenant   ARGV[4] type
  ARGV[5] count   ARGV[6] now (ms)   ARGV[7] actor   ARGV[8] cause
  Returns JSON {parts: [{key, exp, n}]} or {error: CODE, available}.
]]
local opId, tenant, t, count = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[6]), ARGV[7], ARGV[8]
local done = opResult(opId)
if done then return done end
local multi = false
local flat = redis.call('HGETALL', K_SERIALS)
for i = 1, #flat, 2 do
  local rec = cjson.decode(flat[i + 1])
  if rec.status == 'active' and rec.payload.multiTenant then multi = true end
end
if not multi then return cjson.encode({ error = 'MULTI_TENANT_NOT_ALLOWED' }) end
local available = freeCount(t)
if available < count then return cjson.encode({ error = 'NOT_ENOUGH_LICENSES', available = available }) end
local parts = {}
local left = count
while left > 0 do
  local keyId = chooseKey(t)
  local exp = tonumber(redis.call('HGET', K_KEYS, keyId))
  local n = math.min(left, spareOf({ id = keyId, exp = exp }, t))
  if redis.call('HINCRBY', K_ALLOC, keyId .. '|' .. t, -n) == 0 then redis.call('HDEL', K_ALLOC, keyId .. '|' .. t) end
  redis.call('HINCRBY', K_GRANTS, tenant .. '|' .. keyId .. '|' .. t, n)
  parts[#parts + 1] = { key = keyId, exp = exp, n = n }
  left = left - n
end
audit('', t, 'granted-out', '', tenant, tostring(count))
return recordOp(opId, { parts = parts })
