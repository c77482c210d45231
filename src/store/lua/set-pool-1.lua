--[[
  Sets how many licenses of one type the tenant is granted (the configured pool until serial
  keys feed it). Never below what is assigned (SPEC L4); free licenses go to waiting Clients.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] license type   ARGV[3] granted
  Returns {granted actually set, promoted client ids...}.
]]
local t, want = ARGV[2], tonumber(ARGV[3])
local assigned = redis.call('SCARD', kHolders(t))
local granted = math.max(want, assigned)
redis.call('HSET', K_POOL, t, granted)
local reply = {granted}
for _, id in ipairs(promoteWaiting(t)) do reply[#reply + 1] = id end
return reply
