--[[
  Uninstalls a Client (SPEC C8): frees its license at once, leaves the waiting queue, revokes
  its credential and marks it uninstalled; the freed license goes to the next waiting Client
  of the tenant (C9). Idempotent.

  Admin uninstall: Command{uninstall} is queued (the doorbell brings it to an online agent) and
  the revoked credential's hash is kept as revokedCredHash, so that an agent that was offline
  learns it at its next connect (F4): hello-1.lua serves that credential, and only that one, the
  queued Uninstall, and CLIENT_UNINSTALLED once it is acknowledged.
  The agent's own UninstallNotice: it knows, so nothing is queued (the hash is kept all the same:
  that credential gets CLIENT_UNINSTALLED); it also ends a connection served for a queued
  Uninstall (the agent answered it with a notice).

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] now (ms)   ARGV[4] actor   ARGV[5] cause
  ARGV[6] '1' to queue Command{uninstall} for the agent (admin uninstall), '0' when the agent said so
  Returns {'OK', freed type or '', promoted client ids...} or {'CLIENT_NOT_FOUND'}.
]]
local clientId, byAdmin = ARGV[2], ARGV[6] == '1'
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[3]), ARGV[4], ARGV[5]
local ck = kClient(clientId)
local status = redis.call('HGET', ck, 'status')
if not status then return {'CLIENT_NOT_FOUND'} end
if status == 'uninstalled' then
  if not byAdmin then
    redis.call('HDEL', K_ONLINE, clientId)
    redis.call('INCR', K_PRESENCE)
  end
  return {'OK', ''}
end
local held = redis.call('HGET', ck, 'type') or ''
if held ~= '' then unassignLicense(clientId, held, 'UNINSTALLED', 'UNINSTALLED') end
leaveQueue(clientId)
-- The revoked credential's hash is kept for good: its agent is served the queued Uninstall until
-- it acknowledges it, and CLIENT_UNINSTALLED after that (never an AUTH_FAILED loop, F4).
redis.call('HSET', ck, 'revokedCredHash', redis.call('HGET', ck, 'credHash') or '')
if byAdmin then appendCommand(clientId, 'uninstall', '') else
  redis.call('HDEL', K_ONLINE, clientId)
  redis.call('INCR', K_PRESENCE)
end
redis.call('HSET', ck, 'status', 'uninstalled', 'credHash', '', 'reason', 'UNINSTALLED', 'waitType', '', 'uninstalledAt', CTX.now)
-- Indexed by when, so the retention upkeep finds it without walking the tenant (Z5, purge-uninstalled-1.lua).
redis.call('ZADD', K_UNINSTALLED, CTX.now, clientId)
local reply = {'OK', held}
if held ~= '' then
  for _, id in ipairs(promoteWaiting(held)) do reply[#reply + 1] = id end
end
ringAppended()
return reply
