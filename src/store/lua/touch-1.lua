--[[
  Batched last-seen update for the online Clients of one tenant (SPEC C4; one call per tenant
  per flush instead of one write per heartbeat).

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] now (ms)   ARGV[3..] client ids
  Returns the number of Clients updated.
]]
local n = 0
for i = 3, #ARGV do
  local ck = kClient(ARGV[i])
  if redis.call('EXISTS', ck) == 1 then
    redis.call('HSET', ck, 'lastSeen', ARGV[2])
    n = n + 1
  end
end
return n
