--[[
  Marks a Client offline when the connection that closed is still its current one (a
  superseded connection closing later changes nothing). SPEC C4.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] connection token   ARGV[4] last seen (ms)
  Returns 1 when the Client went offline, 0 when another connection holds it.
]]
local clientId, conn = ARGV[2], ARGV[3]
if redis.call('HGET', K_ONLINE, clientId) ~= conn then return 0 end
redis.call('HDEL', K_ONLINE, clientId)
if redis.call('EXISTS', kClient(clientId)) == 1 then
  redis.call('HSET', kClient(clientId), 'lastSeen', ARGV[4])
end
return 1
