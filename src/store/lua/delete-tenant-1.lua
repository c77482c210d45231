--[[
  Deletes an empty tenant's keys (issue 12), in one atomic call in the tenant's slot: either the
  tenant is refused as not empty and nothing changes, or every key of its slot that licensegate
  names goes at once — an agent enrolling at the same moment either got in first (then the
  tenant is not empty) or finds no tenant. The caller (src/licensing/tenant-lifecycle.ts) then
  drops the tenant from the cross-slot indexes (claims, names, then the tenant set last), so a
  crash in between is finished by the job's retry: this script answers {deleted} again when the
  tenant hash is already gone.

  Not empty: licenses allocated (granted), any registered Client id (uninstalled ones too,
  until the retention purge releases them: their ids are still claimed in the global
  client→tenant map), or any PAM user.

  Left to expire: op results (`op:<id>`, PX OP_RESULT_TTL_MS), whose ids are not listed anywhere.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base
  Returns JSON {deleted: true, name, existed} or {error: 'TENANT_NOT_EMPTY', licenses, clients, pamUsers}.
]]
if TENANT_ID == DEFAULT_TENANT_ID then return cjson.encode({ error = 'INVALID_ARGUMENT' }) end
local name = redis.call('HGET', K_TENANT, 'name')
local licenses = 0
local alloc = redis.call('HGETALL', K_ALLOC)
for i = 2, #alloc, 2 do licenses = licenses + tonumber(alloc[i]) end
local clients = redis.call('SCARD', K_CLIENTS)
local users = redis.call('SCARD', K_USERS)
if licenses > 0 or clients > 0 or users > 0 then
  return cjson.encode({ error = 'TENANT_NOT_EMPTY', licenses = licenses, clients = clients, pamUsers = users })
end
local doomed = { K_TENANT, K_ALLOC, K_KEYS, K_CLIENTS, K_ONLINE, K_PRESENCE, K_USERS, K_AUDIT, K_OPS, K_ENDED, K_EVENTS,
  K_PROMOTING, K_UNINSTALLED, K_RELEASED_IDS, K_RETENTION }
local keyIds = redis.call('HKEYS', K_KEYS)
for _, t in ipairs(ALL_TYPES) do
  doomed[#doomed + 1] = kHolders(t)
  doomed[#doomed + 1] = kWaiting(t)
  doomed[#doomed + 1] = kOfflineHolders(t)
  for _, keyId in ipairs(keyIds) do doomed[#doomed + 1] = kKeyHolders(keyId, t) end
end
for i = 1, #doomed, 500 do
  redis.call('DEL', unpack(doomed, i, math.min(i + 499, #doomed)))
end
return cjson.encode({ deleted = true, name = name or TENANT_ID, existed = name ~= false })
