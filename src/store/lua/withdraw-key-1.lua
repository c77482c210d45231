--[[
  Withdraws one serial key's licenses from one tenant (SPEC S4, one step of the expiry or
  removal saga): its allocation here is dropped, its holders move to other keys with room or
  lose their license (StopMonitoring(reason), then they wait, C9), and free licenses go to
  waiting Clients. Idempotent: a second run finds nothing to withdraw.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] key id   ARGV[3] stop reason (KEY_EXPIRED | KEY_REMOVED)
  ARGV[4] now (ms)   ARGV[5] actor   ARGV[6] cause
  Returns JSON {lost: [client ids that got StopMonitoring], promoted: [client ids], seats: [user ids]}.
]]
local keyId, reason = ARGV[2], ARGV[3]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[4]), ARGV[5], ARGV[6]
-- The key ends now for this tenant even if its expiry instant is a little later (removal).
if redis.call('HEXISTS', K_KEYS, keyId) == 1 then redis.call('HSET', K_KEYS, keyId, 1) end
redis.call('SADD', K_ENDED, keyId)
local lost, promoted, seats = {}, {}, {}
for _, t in ipairs(ALL_TYPES) do
  redis.call('HDEL', K_ALLOC, keyId .. '|' .. t)
  for _, id in ipairs(rebalance(t, reason, 'KEY_EXPIRED')) do
    if t == SEAT then seats[#seats + 1] = id else lost[#lost + 1] = id end
  end
end
for _, t in ipairs(ALL_TYPES) do
  for _, id in ipairs(promoteWaiting(t)) do promoted[#promoted + 1] = id end
end
pruneKeys()
ringAppended()
return cjson.encode({ lost = lost, promoted = promoted, seats = seats })
