--[[
  Assigns or unassigns a PAM seat to/from a PAM user, manually (SPEC P1, P2: L3, L4 apply).

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] user id   ARGV[3] 'assign' | 'unassign'   ARGV[4] now (ms)
  ARGV[5] actor   ARGV[6] cause
  Returns {'OK', changed 0|1} or {ERROR_CODE}.
]]
local userId, op = ARGV[2], ARGV[3]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local uk = kUser(userId)
if redis.call('EXISTS', uk) == 0 then return {'USER_NOT_FOUND'} end
local held = redis.call('HGET', uk, 'type') or ''
if op == 'assign' then
  if held == SEAT then return {'OK', 0} end
  if not assignLicense(userId, SEAT, 'manual') then return {'NO_LICENSE_AVAILABLE'} end
  return {'OK', 1}
end
if held ~= SEAT then return {'OK', 0} end
unassignLicense(userId, SEAT, 'UNASSIGNED_BY_ADMIN', '')
return {'OK', 1}
