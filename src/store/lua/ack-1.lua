--[[
  Records that a Client applied its commands up to seq and trims them from its log (SPEC C7:
  only acknowledged commands are ever trimmed). An ack that covers the Uninstall of an
  uninstalled Client (C8, F4) means the agent has learned it: if this connection still holds the
  Client, it is recorded offline; the gateway then closes the connection with UNINSTALLED. The
  revoked credential's hash is kept, so that a copy of the agent that comes back with it (a VM
  restored from a snapshot) is told CLIENT_UNINSTALLED instead of looping on AUTH_FAILED.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] seq   ARGV[4] connection token
  Returns {'OK', acked, uninstalled 1|0} or {'INVALID_ACK'} when seq was never sent.
]]
local clientId, n, conn = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local ck = kClient(clientId)
local c = redis.call('HMGET', ck, 'seq', 'acked', 'status', 'uninstallSeq')
local seq = tonumber(c[1] or '0')
if n > seq then return {'INVALID_ACK'} end
local acked = tonumber(c[2] or '0')
if n > acked then
  acked = n
  -- An ack proves the agent received its Welcome (and credential): no re-enrollment after this.
  redis.call('HSET', ck, 'acked', acked, 'confirmed', '1')
  redis.call('XTRIM', kCommands(clientId), 'MINID', '0-' .. (acked + 1))
end
local done = 0
if c[3] == 'uninstalled' and acked >= tonumber(c[4] or '0') then
  done = 1
  if redis.call('HGET', K_ONLINE, clientId) == conn then
    redis.call('HDEL', K_ONLINE, clientId)
    redis.call('INCR', K_PRESENCE)
  end
end
return {'OK', acked, done}
