--[[
  Uninstalls a Client (SPEC C8): frees its license at once, leaves the waiting queue, revokes
  its credential and marks it uninstalled; the freed license goes to the next waiting Client
  of the tenant (C9). Idempotent.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] now (ms)
  Returns {'OK', freed type or '', promoted client ids...} or {'CLIENT_NOT_FOUND'}.
]]
local clientId, now = ARGV[2], ARGV[3]
local ck = kClient(clientId)
local status = redis.call('HGET', ck, 'status')
if not status then return {'CLIENT_NOT_FOUND'} end
if status == 'uninstalled' then return {'OK', ''} end
local held = redis.call('HGET', ck, 'type') or ''
leaveQueue(clientId)
redis.call('HSET', ck, 'status', 'uninstalled', 'credHash', '', 'type', '', 'reason', 'UNINSTALLED',
  'waitType', '', 'uninstalledAt', now)
redis.call('HDEL', K_ONLINE, clientId)
local reply = {'OK', held}
if held ~= '' then
  redis.call('SREM', kHolders(held), clientId)
  for _, id in ipairs(promoteWaiting(held)) do reply[#reply + 1] = id end
end
return reply
