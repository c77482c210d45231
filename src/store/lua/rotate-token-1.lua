--[[
  Rotates a tenant's enrollment token (SPEC Z2): the new token's hash becomes current; the
  current one stays valid as the previous token until now + grace (hello-1.lua's enroll branch
  accepts either until then), or dies at once when grace is 0. A cleartext `enrollToken` left
  by an older version goes too. One audit line, without any secret. The reply is stored under
  the op id (SPEC F3): a retried job returns the first reply and does not rotate twice.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] new token hash (sha256 hex)   ARGV[3] grace (ms, >= 0)
  ARGV[4] now (ms)      ARGV[5] actor (user id)              ARGV[6] op id ('' = none)
  Returns JSON {rotatedAt, previousValidUntil} (previousValidUntil = rotatedAt when the old token
  died at once) or {error: 'UNKNOWN_TENANT'}.
]]
local op = ARGV[6] or ''
local done = storedResult(op)
if done then return done end
if redis.call('EXISTS', K_TENANT) == 0 then return storeResult(op, { error = 'UNKNOWN_TENANT' }) end
local now, grace = tonumber(ARGV[4]), tonumber(ARGV[3])
local current = redis.call('HGET', K_TENANT, 'enrollTokenHash')
local untilMs = now
if grace > 0 and current then
  untilMs = now + grace
  redis.call('HSET', K_TENANT, 'prevEnrollTokenHash', current, 'prevEnrollTokenUntil', untilMs)
else
  redis.call('HDEL', K_TENANT, 'prevEnrollTokenHash', 'prevEnrollTokenUntil')
end
redis.call('HSET', K_TENANT, 'enrollTokenHash', ARGV[2])
redis.call('HDEL', K_TENANT, 'enrollToken')
redis.call('XADD', K_AUDIT, '*', 'ts', now, 'holder', '', 'holderKind', '', 'type', '', 'action', 'enroll-token-rotated',
  'before', '', 'after', '', 'reason', 'grace ' .. grace .. ' ms', 'actor', ARGV[5], 'cause', op)
return storeResult(op, { rotatedAt = now, previousValidUntil = untilMs })
