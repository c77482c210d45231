--[[
  First step of granting licenses to a tenant (SPEC T1, T3): reserves them in the default
  tenant, charged to keys that expire last, and records the grant. The second step
  (grant-in) gives them to the tenant. A crash in between leaves capacity unused, never
  oversubscribed. In the same atomic call it writes the pending-saga record (with the parts
  reserved), so whatever happens next the saga is finished exactly once: by the job's retry
  or by the ledger's resumer (SPEC F2; docs/sagas.md). Each step is idempotent by op id.

  KEYS[1] default tenant hash (routing)
  ARGV[1] default tenant base   ARGV[2] op id   ARGV[3] target tenant   ARGV[4] type
  ARGV[5] count   ARGV[6] now (ms)   ARGV[7] actor   ARGV[8] cause
  ARGV[9] saga field in the sagas hash   ARGV[10] saga record JSON (the parts are added)
  Returns JSON {parts: [{key, exp, n}]} or {error: CODE, available}; stored under the op id.
]]
local opId, tenant, t, count = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[6]), ARGV[7], ARGV[8]
-- Results stored before op-results.lua (the ops hash) still answer their retries.
local done = storedResult(opId) or opResult(opId)
if done then return done end
local multi = false
local flat = redis.call('HGETALL', K_SERIALS)
for i = 1, #flat, 2 do
  local rec = cjson.decode(flat[i + 1])
  if rec.status == 'active' and rec.payload.multiTenant then multi = true end
end
if not multi then return storeResult(opId, { error = 'MULTI_TENANT_NOT_ALLOWED' }) end
local available = freeCount(t)
if available < count then return storeResult(opId, { error = 'NOT_ENOUGH_LICENSES', available = available }) end
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
local saga = cjson.decode(ARGV[10])
saga.parts = parts
redis.call('HSET', K_SAGAS, ARGV[9], cjson.encode(saga))
return storeResult(opId, { parts = parts })
