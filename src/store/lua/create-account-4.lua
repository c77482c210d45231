--[[
  Creates an admin account (SPEC H2) unless its login name is taken: names are unique
  case-insensitively, and the check and the write are one script, so concurrent creates of one
  name from any number of processes make exactly one account. The account hash holds no
  password (passwordHash '' until the set-up link is used; Z2: only scrypt hashes are stored).

  KEYS[1] name index hash (lower-cased name -> id)   KEYS[2] the account hash
  KEYS[3] set of every account id                      KEYS[4] the tenant's set of account ids
  ARGV[1] id   ARGV[2] name   ARGV[3] lower-cased name   ARGV[4] tenant id
  ARGV[5] permissions (comma-separated)   ARGV[6] createdAt (ms)
  Returns {'OK'} or {'ACCOUNT_EXISTS', holder id}.
]]
local holder = redis.call('HGET', KEYS[1], ARGV[3])
if holder then return {'ACCOUNT_EXISTS', holder} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'ACCOUNT_EXISTS', ARGV[1]} end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'name', ARGV[2], 'tenantId', ARGV[4], 'permissions', ARGV[5],
  'createdAt', ARGV[6], 'disabled', '0', 'passwordHash', '', 'credentialEpoch', '0')
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[1])
return {'OK'}
