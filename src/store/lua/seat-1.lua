--[[
  Assigns or unassigns a PAM seat to/from a PAM user, manually (SPEC P1, P2: L3, L4 apply).
  The reply, refusals included, is stored under the op id (SPEC F3): a retried job gets the
  first reply ("changed") and changes nothing.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] user id   ARGV[3] 'assign' | 'unassign'   ARGV[4] now (ms)
  ARGV[5] actor   ARGV[6] cause   ARGV[7] op id ('' = none)
  Returns JSON {changed: true|false} or {error: CODE}.
]]
local userId, op, opId = ARGV[2], ARGV[3], ARGV[7]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local done = storedResult(opId)
if done then return done end
local uk = kUser(userId)
if redis.call('EXISTS', uk) == 0 then return storeResult(opId, { error = 'USER_NOT_FOUND' }) end
local held = redis.call('HGET', uk, 'type') or ''
if op == 'assign' then
  if held == SEAT then return storeResult(opId, { changed = false }) end
  if not assignLicense(userId, SEAT, 'manual') then return storeResult(opId, { error = 'NO_LICENSE_AVAILABLE' }) end
  return storeResult(opId, { changed = true })
end
if held ~= SEAT then return storeResult(opId, { changed = false }) end
unassignLicense(userId, SEAT, 'UNASSIGNED_BY_ADMIN', '')
return storeResult(opId, { changed = true })
