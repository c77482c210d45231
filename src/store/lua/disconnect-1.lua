--[[
  Marks a Client offline when the connection that closed is still its current one (a
  superseded connection closing later changes nothing). SPEC C4. A licensed Client joins the
  offline-holders index (C11). A non-persistent Client frees its license when the tenant's
  policy says so (C12); the freed license goes to the next waiting Client (C9).
  The record's holder epoch stays, so that an older connection that lost the record can never
  re-register itself over a newer one that has closed since (includes/presence.lua, F1).

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] connection token
  ARGV[4] last seen (ms), or '' for Redis TIME (the gateway's own disconnects: a skewed host
          clock must not misorder offline holders, F1)
  Returns {1 when the Client went offline else 0, promoted client ids...}.
]]
local clientId, conn = ARGV[2], ARGV[3]
if redis.call('HGET', K_ONLINE, clientId) ~= conn then return {0} end
local seen = tonumber(ARGV[4])
if not seen then
  local t = redis.call('TIME')
  seen = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
CTX.now, CTX.actor, CTX.cause = seen, 'system', 'disconnect'
redis.call('HDEL', K_ONLINE, clientId)
redis.call('INCR', K_PRESENCE)
local ck = kClient(clientId)
if redis.call('EXISTS', ck) == 0 then return {1} end
redis.call('HSET', ck, 'lastSeen', seen)
local held = redis.call('HGET', ck, 'type') or ''
if held == '' then return {1} end
if redis.call('HGET', ck, 'nonPersistent') == '1' and redis.call('HGET', K_TENANT, 'freeNonPersistent') == '1' then
  unassignLicense(clientId, held, 'NON_PERSISTENT_DISCONNECT', '')
  local reply = {1}
  for _, id in ipairs(promoteWaiting(held)) do reply[#reply + 1] = id end
  ringAppended()
  return reply
end
redis.call('ZADD', kOfflineHolders(held), seen, clientId)
return {1}
