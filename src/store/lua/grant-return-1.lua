--[[
  Compensation of a grant whose tenant was deleted between the grant's two steps (SPEC T1, F2,
  A5): grant-in refused (UNKNOWN_TENANT), so the licenses grant-out reserved come back to the
  default tenant — the grant records are lowered, the allocation of keys still active restored
  (a key that ended meanwhile already dropped its grant records and gives nothing back), waiting
  Clients promoted — and the pending-saga record is deleted in the same atomic call: no license
  is lost in a tenant that is gone and none is created. One audit line (action grant-returned,
  before = the tenant, reason = licenses returned). Idempotent by op id.

  KEYS[1] default tenant hash (routing)
  ARGV[1] default tenant base   ARGV[2] op id   ARGV[3] tenant   ARGV[4] type
  ARGV[5] parts JSON [{key, exp, n}] (grant-out's reply)   ARGV[6] now (ms)   ARGV[7] actor
  ARGV[8] cause   ARGV[9] saga field in the sagas hash
  Returns JSON {returned: n, promoted: [client ids]}; stored under the op id.
]]
local opId, tenant, t = ARGV[2], ARGV[3], ARGV[4]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[6]), ARGV[7], ARGV[8]
redis.call('HDEL', K_SAGAS, ARGV[9])
local done = storedResult(opId)
if done then return done end
local returned = returnGranted(tenant, t, cjson.decode(ARGV[5]))
audit('', t, 'grant-returned', tenant, '', tostring(returned))
local promoted = promoteWaiting(t)
ringAppended()
return storeResult(opId, { returned = returned, promoted = promoted })
