--[[
  An admin assigns a license to a Client, online or offline (SPEC C6, L2, L3, L4, C10, C11):
  the Client must exist and hold none; the type must fit its OS unless forced; a free license
  of the tenant's pool is charged (or one reclaimed under the tenant's policy). Clears an
  admin's earlier unassignment (C10). StartMonitoring goes to the command log.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] type ('' = the OS-matched type)
  ARGV[4] force '1'|'0'   ARGV[5] now (ms)   ARGV[6] actor   ARGV[7] cause (job id)
  ARGV[8] op id ('' = none): the reply, refusals included, is stored under it (SPEC F3)
  Returns JSON {type, reclaimed, state} or {error: CODE}. Rings the Client's node (ringAppended).
]]
local clientId, t, force, op = ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[8]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local done = storedResult(op)
if done then return done end
local ck = kClient(clientId)
local c = redis.call('HMGET', ck, 'status', 'type', 'wantType')
if not c[1] then return storeResult(op, { error = 'CLIENT_NOT_FOUND' }) end
if c[1] ~= 'active' then return storeResult(op, { error = 'CLIENT_UNINSTALLED' }) end
if c[2] and c[2] ~= '' then return storeResult(op, { error = 'CLIENT_ALREADY_LICENSED', type = c[2] }) end
local want = c[3] or ''
if t == '' then t = want end
if t == '' then return storeResult(op, { error = 'NO_MATCHING_TYPE' }) end
if t ~= want and not force then return storeResult(op, { error = 'LICENSE_TYPE_MISMATCH', osType = want }) end
-- A refused assign changes nothing (C9: the Client keeps its place in the queue; C10: an
-- admin's unassignment stays pinned), so every check comes before the first write.
local reclaimed = ''
if freeCount(t) == 0 then
  -- Reclaim (C11) only when the license it frees can be charged: the victim's key is usable.
  local victim = redis.call('ZRANGE', kOfflineHolders(t), 0, 0)[1]
  local victimKey = victim and redis.call('HGET', kClient(victim), 'key') or ''
  local victimExp = tonumber(redis.call('HGET', K_KEYS, victimKey) or '')
  if not victimExp or not usable({ id = victimKey, exp = victimExp }) then return storeResult(op, { error = 'NO_LICENSE_AVAILABLE' }) end
  reclaimed = reclaimFor(t) or ''
  if reclaimed == '' then return storeResult(op, { error = 'NO_LICENSE_AVAILABLE' }) end
end
leaveQueue(clientId)
if not assignLicense(clientId, t, 'manual') then return cjson.encode({ error = 'INTERNAL_ERROR', detail = 'no license after the checks' }) end
ringAppended()
return storeResult(op, { type = t, reclaimed = reclaimed, state = clientStateOf(clientId) })
