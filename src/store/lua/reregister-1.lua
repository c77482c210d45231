--[[
  Re-registers live connections a gateway node holds (SPEC F1, C4, C5): their online record went
  missing (the node was reaped after a Redis pause or an event-loop stall), or names an older
  connection because Redis lost this connection's Hello (a restart from an older AOF). Decided
  by connection epochs (includes/presence.lua), never by token alone: a connection takes a
  record another connection holds only when that one is older. A missing record is restored
  whatever the epochs: the connection asking is live, and whichever connection held the record
  since has closed (its Hello may even have run after its socket was gone, as when a gateway's
  link to Redis was cut), so this one is the Client's only connection here and now.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2..] triples: client id, connection token, connection epoch
  Returns one reply per triple, in order:
    'held'        the record is this connection's (nothing written)
    'added'       the record was missing, or an older connection's, and is this connection's
                  again (an older holder's node is told to close it: supersede doorbell)
    'superseded'  a newer connection holds the record
    'gone'        the Client is not active (uninstalled or unknown): nothing written
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reply = {}
for i = 2, #ARGV - 2, 3 do
  local clientId, conn, epoch = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]) or 0
  local current = redis.call('HGET', K_ONLINE, clientId)
  local ck = kClient(clientId)
  local result
  if current == conn then
    result = 'held'
  else
    local c = redis.call('HMGET', ck, 'status', 'holderEpoch', 'type', 'connEpoch')
    local holder = tonumber(c[2] or '0')
    if c[1] ~= 'active' then
      result = 'gone'
    elseif not current or epoch > holder then
      redis.call('HSET', K_ONLINE, clientId, conn)
      redis.call('INCR', K_PRESENCE)
      redis.call('HSET', ck, 'lastSeen', now, 'holderEpoch', epoch)
      -- Epochs issued by Hellos Redis lost are never issued again.
      if epoch > tonumber(c[4] or '0') then redis.call('HSET', ck, 'connEpoch', epoch) end
      -- Online again: no longer a reclaim candidate (C11), as after a Hello.
      if c[3] and c[3] ~= '' then redis.call('ZREM', kOfflineHolders(c[3]), clientId) end
      if current then
        local node = string.match(current, '^(.*):[^:]*$')
        if node then
          redis.call('SPUBLISH', kDoorbellChannel(node), cjson.encode({ t = 'supersede', tenant = TENANT_ID, client = clientId, conn = current }))
        end
      end
      result = 'added'
    else
      result = 'superseded'
    end
  end
  reply[#reply + 1] = result
end
return reply
