--[[
  Second step of a grant: the tenant receives licenses reserved for it by grant-out, per key,
  and hands them to its waiting Clients (C9). Idempotent by op id. The caller then deletes the
  pending-saga record (another slot; a crash before that only makes the resumer run this
  step again, which returns the stored result).

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] op id   ARGV[3] type   ARGV[4] parts JSON [{key, exp, n}]
  ARGV[5] now (ms)   ARGV[6] actor   ARGV[7] cause
  Returns JSON {promoted: [client ids]} or {error: 'UNKNOWN_TENANT'} when the tenant was
  deleted after the grant checked it (its hash is gone: delete-tenant removes it atomically in
  this slot, so either this step ran first and the delete is refused as not empty, or the delete
  ran first and this step gives nothing). The refusal is stored too, so a retry after a tenant
  of the same id was created again still refuses (the caller returns the licenses to the
  default tenant: grant-return). Stored under the op id.
]]
local opId, t = ARGV[2], ARGV[3]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local done = storedResult(opId) or opResult(opId)
if done then return done end
if redis.call('EXISTS', K_TENANT) == 0 then return storeResult(opId, { error = 'UNKNOWN_TENANT' }) end
local total = 0
for _, p in ipairs(cjson.decode(ARGV[4])) do
  -- A key that ended while this grant was in flight gives nothing (its expiry already ran here).
  if redis.call('SISMEMBER', K_ENDED, p.key) == 0 then
    redis.call('HINCRBY', K_ALLOC, p.key .. '|' .. t, p.n)
    redis.call('HSET', K_KEYS, p.key, p.exp)
    total = total + p.n
  end
end
audit('', t, 'granted-in', '', '', tostring(total))
local promoted = promoteWaiting(t)
ringAppended()
return storeResult(opId, { promoted = promoted })
