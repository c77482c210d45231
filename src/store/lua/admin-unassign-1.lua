--[[
  An admin unassigns a Client's license (SPEC C7, C10): StopMonitoring goes to its command log
  (delivered at once if online, at next connect otherwise); the Client is pinned unlicensed
  (UNASSIGNED_BY_ADMIN) and leaves the waiting queue, so nothing licenses it again until an
  admin assigns; the freed license goes to the next waiting Client (C9). Idempotent.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] now (ms)   ARGV[4] actor   ARGV[5] cause
  ARGV[6] op id ('' = none): the reply, refusals included, is stored under it (SPEC F3)
  Returns JSON {freed: type or '', promoted: [client ids], state}; rings the nodes (ringAppended)
  or {error: CODE}.
]]
local clientId, op = ARGV[2], ARGV[6]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[3]), ARGV[4], ARGV[5]
local done = storedResult(op)
if done then return done end
local ck = kClient(clientId)
local c = redis.call('HMGET', ck, 'status', 'type')
if not c[1] then return storeResult(op, { error = 'CLIENT_NOT_FOUND' }) end
if c[1] ~= 'active' then return storeResult(op, { error = 'CLIENT_UNINSTALLED' }) end
local held = c[2] or ''
leaveQueue(clientId)
local promoted = {}
if held ~= '' then
  unassignLicense(clientId, held, 'UNASSIGNED_BY_ADMIN', 'UNASSIGNED_BY_ADMIN')
  promoted = promoteWaiting(held)
end
redis.call('HSET', ck, 'reason', 'UNASSIGNED_BY_ADMIN', 'waitType', '')
ringAppended()
return storeResult(op, { freed = held, promoted = promoted, state = clientStateOf(clientId) })
