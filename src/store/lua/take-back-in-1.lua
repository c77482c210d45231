--[[
  Second step of a take-back: the default tenant gets back the licenses a tenant returned (for
  keys still active) and hands them to its waiting Clients. Idempotent by op id. Deletes the
  pending-saga record in the same atomic call: the take-back is finished (SPEC F2).

  KEYS[1] default tenant hash (routing)
  ARGV[1] default tenant base   ARGV[2] op id   ARGV[3] tenant   ARGV[4] type
  ARGV[5] parts JSON [{key, n}]   ARGV[6] now (ms)   ARGV[7] actor   ARGV[8] cause
  ARGV[9] saga field in the sagas hash ('' = none)
  Returns JSON {promoted: [client ids]}; stored under the op id.
]]
local opId, tenant, t = ARGV[2], ARGV[3], ARGV[4]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[6]), ARGV[7], ARGV[8]
if ARGV[9] and ARGV[9] ~= '' then redis.call('HDEL', K_SAGAS, ARGV[9]) end
local done = storedResult(opId) or opResult(opId)
if done then return done end
returnGranted(tenant, t, cjson.decode(ARGV[5]))
local promoted = promoteWaiting(t)
ringAppended()
return storeResult(opId, { promoted = promoted })
