--[[
  Records that a Client applied its commands up to seq and trims them from its log (SPEC C7:
  only acknowledged commands are ever trimmed).

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] seq
  Returns {'OK', acked} or {'INVALID_ACK'} when seq was never sent.
]]
local clientId, n = ARGV[2], tonumber(ARGV[3])
local ck = kClient(clientId)
local seq = tonumber(redis.call('HGET', ck, 'seq') or '0')
if n > seq then return {'INVALID_ACK'} end
local acked = tonumber(redis.call('HGET', ck, 'acked') or '0')
if n > acked then
  acked = n
  -- An ack proves the agent received its Welcome (and credential): no re-enrollment after this.
  redis.call('HSET', ck, 'acked', acked, 'confirmed', '1')
  redis.call('XTRIM', kCommands(clientId), 'MINID', '0-' .. (acked + 1))
end
return {'OK', acked}
