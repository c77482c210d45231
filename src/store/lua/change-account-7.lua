--[[
  Changes or deletes an admin account (SPEC H2, A2) and keeps the default tenant's last enabled
  technician (an account with every permission) in one atomic step: the check "is another
  enabled technician left?" and the write are one script, so two administrators disabling,
  stripping or deleting the last two technicians at the same instant cannot both succeed —
  exactly one does, the other gets LAST_ADMIN. Every key is in the `{accounts}` slot; the other
  default-tenant accounts' hashes are named from ARGV[1] (Keys.account('') + id).

  KEYS[1] the account hash             KEYS[2] the default tenant's set of account ids
  KEYS[3] name index hash              KEYS[4] set of every account id
  KEYS[5] the account's tenant's set   KEYS[6] the account's set of API token ids
  KEYS[7] the account's set-up link pointer (string: hash of its live set-up token)
  ARGV[1] account hash key prefix (Keys.account(''))
  ARGV[2] API token key prefix (Keys.apiToken(''))   ARGV[3] set-up token key prefix (Keys.setupToken(''))
  ARGV[4] default tenant id   ARGV[5] every permission, encoded (what a technician holds)
  ARGV[6] 'update' or 'delete'
  ARGV[7] update: new permissions (encoded) or '-' to keep   ARGV[8] update: '1'/'0' disabled, '-' to keep
  Returns {'OK'}, {'ACCOUNT_NOT_FOUND'} or {'LAST_ADMIN', name}.
  Disabling bumps credentialEpoch (every session of the account ends); deleting drops the
  account, its name, its token records and its set-up link.
]]
local DEFAULT, ALL = ARGV[4], ARGV[5]
local function technician(tenantId, permissions, disabled)
  return tenantId == DEFAULT and permissions == ALL and disabled ~= '1'
end

local cur = redis.call('HMGET', KEYS[1], 'id', 'name', 'tenantId', 'permissions', 'disabled')
if not cur[1] then return {'ACCOUNT_NOT_FOUND'} end
local id, name, tenantId, permissions, disabled = cur[1], cur[2], cur[3], cur[4] or '', cur[5] or '0'

local deleting = ARGV[6] == 'delete'
local newPermissions = ARGV[7] == '-' and permissions or ARGV[7]
local newDisabled = ARGV[8] == '-' and disabled or ARGV[8]

if technician(tenantId, permissions, disabled) and (deleting or not technician(tenantId, newPermissions, newDisabled)) then
  local another = false
  for _, other in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if other ~= id then
      local o = redis.call('HMGET', ARGV[1] .. other, 'tenantId', 'permissions', 'disabled')
      if technician(o[1], o[2] or '', o[3] or '0') then
        another = true
        break
      end
    end
  end
  if not another then return {'LAST_ADMIN', name or id} end
end

if deleting then
  if redis.call('HGET', KEYS[3], string.lower(name or '')) == id then redis.call('HDEL', KEYS[3], string.lower(name)) end
  for _, token in ipairs(redis.call('SMEMBERS', KEYS[6])) do redis.call('DEL', ARGV[2] .. token) end
  local setup = redis.call('GET', KEYS[7])
  if setup then redis.call('DEL', ARGV[3] .. setup) end
  redis.call('DEL', KEYS[1], KEYS[6], KEYS[7])
  redis.call('SREM', KEYS[4], id)
  redis.call('SREM', KEYS[5], id)
  return {'OK'}
end

redis.call('HSET', KEYS[1], 'permissions', newPermissions, 'disabled', newDisabled)
if newDisabled == '1' and disabled ~= '1' then redis.call('HINCRBY', KEYS[1], 'credentialEpoch', 1) end
return {'OK'}
