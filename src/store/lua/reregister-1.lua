--[[
  Re-registers live connections a gateway node holds whose online record went missing (the node
  was reaped after a Redis pause or an event-loop stall, or a record was lost): SPEC F1, C4.
  Token-guarded (C5): a connection never takes the record from another connection, nor back
  from a newer connection that has closed since (the disconnect script leaves the token of the
  last connection that held the record in the Client's `lastConn`).

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2..] pairs: client id, connection token
  Returns one reply per pair, in order:
    'held'        the record is this connection's (nothing written)
    'added'       the record was missing and is this connection's again
    'superseded'  another connection holds the record, or held it after this one: close this one
    'gone'        the Client is not active (uninstalled or unknown): nothing written
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reply = {}
for i = 2, #ARGV - 1, 2 do
  local clientId, conn = ARGV[i], ARGV[i + 1]
  local current = redis.call('HGET', K_ONLINE, clientId)
  local ck = kClient(clientId)
  local result
  if current == conn then
    result = 'held'
  elseif current then
    result = 'superseded'
  else
    local c = redis.call('HMGET', ck, 'status', 'lastConn', 'type')
    if c[1] ~= 'active' then
      result = 'gone'
    elseif c[2] and c[2] ~= conn then
      result = 'superseded'
    else
      redis.call('HSET', K_ONLINE, clientId, conn)
      redis.call('HSET', ck, 'lastSeen', now)
      -- Online again: no longer a reclaim candidate (C11), as after a Hello.
      if c[3] and c[3] ~= '' then redis.call('ZREM', kOfflineHolders(c[3]), clientId) end
      result = 'added'
    end
  end
  reply[#reply + 1] = result
end
return reply
