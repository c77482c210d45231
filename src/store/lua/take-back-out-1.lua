--[[
  First step of taking licenses back from a tenant (SPEC T4): lowers the tenant's allocation.
  Refused when it would go below what is assigned, unless forced; then licenses are unassigned
  longest-offline first (StopMonitoring TAKEN_BACK). Spare allocation is returned first, from
  the keys that expire first. The second step (take-back-in) returns them to the default
  tenant; a crash in between leaves capacity unused. Idempotent by op id.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] op id   ARGV[3] type   ARGV[4] count   ARGV[5] force '1'|'0'
  ARGV[6] now (ms)   ARGV[7] actor   ARGV[8] cause
  Returns JSON {parts: [{key, n}], lost: [ids]} or {error: CODE, granted, assigned}.
]]
local opId, t, count, force = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1'
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[6]), ARGV[7], ARGV[8]
local done = opResult(opId)
if done then return done end
local granted = grantedCount(t)
local assigned = redis.call('SCARD', kHolders(t))
if count > granted then return cjson.encode({ error = 'NOT_ENOUGH_LICENSES', granted = granted, assigned = assigned }) end
if granted - count < assigned and not force then
  return cjson.encode({ error = 'LICENSES_IN_USE', granted = granted, assigned = assigned })
end
local keys = tenantKeys()
table.sort(keys, function(a, b)
  local ea = (a.exp == 0) and math.huge or a.exp
  local eb = (b.exp == 0) and math.huge or b.exp
  if ea == eb then return a.id < b.id end
  return ea < eb
end)
local take, left = {}, count
-- Spare first (nobody loses anything), then allocation in use.
for pass = 1, 2 do
  for _, k in ipairs(keys) do
    if left == 0 then break end
    local alloc = allocOf(k.id, t) - (take[k.id] or 0)
    local avail = alloc
    if pass == 1 then avail = math.min(alloc, math.max(0, allocOf(k.id, t) - redis.call('SCARD', kKeyHolders(k.id, t)) - (take[k.id] or 0))) end
    local n = math.min(left, avail)
    if n > 0 then
      take[k.id] = (take[k.id] or 0) + n
      left = left - n
    end
  end
end
local parts = {}
for keyId, n in pairs(take) do
  if redis.call('HINCRBY', K_ALLOC, keyId .. '|' .. t, -n) == 0 then redis.call('HDEL', K_ALLOC, keyId .. '|' .. t) end
  parts[#parts + 1] = { key = keyId, n = n }
end
local lost = rebalance(t, 'TAKEN_BACK', 'NO_LICENSE_AVAILABLE')
pruneKeys()
audit('', t, 'taken-back', tostring(granted), tostring(granted - count), force and 'force' or '')
ringAppended()
return recordOp(opId, { parts = parts, lost = lost })
