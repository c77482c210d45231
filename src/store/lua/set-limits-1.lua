--[[
  Sets a tenant's enrollment limits and identity policy (SPEC Z3, src/licensing/tenant-limits.ts),
  read by hello-1.lua's enroll branch. Fields left out keep their value; '-' removes the field
  (the gateway's default applies, or no cap). A changed rate or burst leaves the bucket's
  tokens as they are (capped at the new burst when next used). The reply is stored under the
  op id (SPEC F3): a retried job gets its first reply and does not undo a later change.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] enrollRate   ARGV[3] enrollBurst   ARGV[4] maxClients
  ARGV[5] requireProof ('' = keep, '1' | '0')   ARGV[6] op id ('' = none)
  Returns JSON {enrollRate, enrollBurst, maxClients, requireProof, clients} (null: default /
  no cap) or {error: 'UNKNOWN_TENANT'}.
]]
local op = ARGV[6] or ''
local done = storedResult(op)
if done then return done end
if redis.call('EXISTS', K_TENANT) == 0 then return storeResult(op, { error = 'UNKNOWN_TENANT' }) end
local fields = { 'enrollRate', 'enrollBurst', 'maxClients' }
for i, name in ipairs(fields) do
  local v = ARGV[i + 1]
  if v == '-' then redis.call('HDEL', K_TENANT, name)
  elseif v ~= '' then redis.call('HSET', K_TENANT, name, v) end
end
if ARGV[5] ~= '' then redis.call('HSET', K_TENANT, 'requireProof', ARGV[5]) end
local t = redis.call('HMGET', K_TENANT, 'enrollRate', 'enrollBurst', 'maxClients', 'requireProof')
return storeResult(op, {
  enrollRate = t[1] and tonumber(t[1]) or cjson.null,
  enrollBurst = t[2] and tonumber(t[2]) or cjson.null,
  maxClients = t[3] and tonumber(t[3]) or cjson.null,
  requireProof = t[4] == '1',
  clients = redis.call('SCARD', K_CLIENTS),
})
