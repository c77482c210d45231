--[[
  Uninstalls a Client (SPEC C8): frees its license at once, leaves the waiting queue, revokes
  its credential and marks it uninstalled; the freed license goes to the next waiting Client
  of the tenant (C9). Idempotent.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] now (ms)   ARGV[4] actor   ARGV[5] cause
  ARGV[6] '1' to queue Command{uninstall} for the agent (admin uninstall), '0' when the agent said so
  Returns {'OK', freed type or '', promoted client ids...} or {'CLIENT_NOT_FOUND'}.
]]
local clientId = ARGV[2]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[3]), ARGV[4], ARGV[5]
local ck = kClient(clientId)
local status = redis.call('HGET', ck, 'status')
if not status then return {'CLIENT_NOT_FOUND'} end
if status == 'uninstalled' then return {'OK', ''} end
local held = redis.call('HGET', ck, 'type') or ''
if held ~= '' then unassignLicense(clientId, held, 'UNINSTALLED', 'UNINSTALLED') end
leaveQueue(clientId)
if ARGV[6] == '1' then appendCommand(clientId, 'uninstall', '') else redis.call('HDEL', K_ONLINE, clientId) end
redis.call('HSET', ck, 'status', 'uninstalled', 'credHash', '', 'reason', 'UNINSTALLED', 'waitType', '', 'uninstalledAt', CTX.now)
local reply = {'OK', held}
if held ~= '' then
  for _, id in ipairs(promoteWaiting(held)) do reply[#reply + 1] = id end
end
ringAppended()
return reply
