--[[
  Activates a verified serial key in the default tenant (SPEC S2): records it, allocates its
  licenses to the default tenant, and hands free licenses to waiting Clients (C9).
  Activating an active key again changes nothing. The key.activated event is written here, in
  the same atomic step, and the reply is stored under the op id (SPEC F3): a retried job gets
  the first reply — with the trial keys to end — and re-runs the idempotent post-steps.

  KEYS[1] default tenant hash (routing)
  ARGV[1] default tenant base   ARGV[2] key id   ARGV[3] record JSON (payload + key string)
  ARGV[4] expires at (ms, 0 = never)   ARGV[5] now (ms)   ARGV[6] actor   ARGV[7] cause
  ARGV[8] op id ('' = none)   ARGV[9..] type, count pairs
  Returns JSON {status: 'ACTIVATED'|'ALREADY_ACTIVE', trials: [active trial key ids, when this
  key is purchased], promoted: {type: [client ids]}} or {error: CODE}.
]]
local keyId, exp, op = ARGV[2], tonumber(ARGV[4]), ARGV[8]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local done = storedResult(op)
if done then return done end
local existing = redis.call('HGET', K_SERIALS, keyId)
if existing then
  local rec = cjson.decode(existing)
  if rec.status == 'active' or rec.status == 'expiring' then return storeResult(op, { status = 'ALREADY_ACTIVE', trials = {}, promoted = {} }) end
  if rec.status == 'removed' then return storeResult(op, { error = 'SERIAL_KEY_REMOVED' }) end
  return storeResult(op, { error = 'SERIAL_KEY_EXPIRED' })
end
if exp ~= 0 and exp <= CTX.now then return storeResult(op, { error = 'SERIAL_KEY_EXPIRED' }) end

local record = cjson.decode(ARGV[3])
record.status = 'active'
record.activatedAt = CTX.now
record.exp = exp
redis.call('HSET', K_SERIALS, keyId, cjson.encode(record))
redis.call('HSET', K_KEYS, keyId, exp)
emitEvent('key.activated', { keyId = keyId, kind = record.payload.kind, licenses = record.payload.licenses, expiresAt = record.payload.expiresAt or cjson.null })
local promoted = {}
for i = 9, #ARGV, 2 do
  local t, n = ARGV[i], tonumber(ARGV[i + 1])
  if n > 0 then
    redis.call('HINCRBY', K_ALLOC, keyId .. '|' .. t, n)
    audit('', t, 'key-activated', '', keyId, tostring(n))
    promoted[t] = promoteWaiting(t)
  end
end

-- A purchased key ends every active trial (S2); the caller runs their expiry.
local trials = {}
if record.payload.kind ~= 'trial' then
  local flat = redis.call('HGETALL', K_SERIALS)
  for i = 1, #flat, 2 do
    local rec = cjson.decode(flat[i + 1])
    if rec.status == 'active' and rec.payload.kind == 'trial' then trials[#trials + 1] = flat[i] end
  end
end
ringAppended()
return storeResult(op, { status = 'ACTIVATED', trials = trials, promoted = promoted })
