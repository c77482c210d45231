--[[
  Withdraws one serial key's licenses from one tenant (SPEC S4, one step of the expiry or
  removal saga): the key ends here at once (nothing new is charged to it, late grant steps skip
  it), its holders move to other keys with room or lose their license (StopMonitoring(reason),
  then they wait, C9), and free licenses go to waiting Clients. In a tenant other than the
  default one, the grant withdrawn is audited (A5).

  Bounded (F6): one call handles holders until its work budget runs out and returns
  {done: false}; the caller calls again until done. The key's allocation follows its holders
  down, so assigned never exceeds granted between calls. When some but not all holders can
  move, those that lose are the first by victimRank (offline first, least recently seen), from a
  ranking built in chunks first. Progress lives in work:withdraw:<key id>. Idempotent: once done,
  a call finds nothing to withdraw.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] key id   ARGV[3] stop reason (KEY_EXPIRED | KEY_REMOVED)
  ARGV[4] now (ms)   ARGV[5] actor   ARGV[6] cause
  Returns JSON {done, lost: [client ids that got StopMonitoring in this call], promoted: [client
  ids], seats: [user ids], lostTotal, seatsTotal (over every call, once done)}.
]]
local keyId, reason = ARGV[2], ARGV[3]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local wk = kWork('withdraw:' .. keyId)

-- One bounded step for type t. Returns true when no holder of the key is left; appends the ids
-- that lost their license to `out`.
local function withdrawType(t, out)
  local kh = kKeyHolders(keyId, t)
  local vk = kVictims('withdraw:' .. keyId .. ':' .. t)
  local mode = redis.call('HGET', wk, t)
  if not mode then
    -- Order matters only when some, not all, can move: rank them first ('rank' → 'ranked').
    local n, free = redis.call('SCARD', kh), freeCount(t)
    mode = (free > 0 and free < n) and 'rank' or 'any'
    redis.call('HSET', wk, t, mode)
  end
  while workLeft() and redis.call('SCARD', kh) > 0 do
    if mode == 'rank' then
      if rankChunk(t, kh, vk, wk, t .. ':ranked') then
        mode = 'ranked'
        redis.call('HSET', wk, t, mode)
      end
    else
      local to = chooseKey(t)
      local id
      if mode == 'ranked' then
        -- Movers from the back of the ranking, losers from its front.
        local top = redis.call(to and 'ZPOPMAX' or 'ZPOPMIN', vk)
        WORK.scans = WORK.scans - 1
        if #top == 0 then
          mode = 'any'
          redis.call('HSET', wk, t, mode)
        elseif redis.call('HGET', holderKey(t, top[1]), 'key') == keyId then
          id = top[1]
        end
      else
        id = redis.call('SRANDMEMBER', kh)
      end
      if id and to then
        recharge(id, t, keyId, to)
      elseif id then
        unassignLicense(id, t, reason, 'KEY_EXPIRED')
        if t ~= SEAT then waitForLicense(id, t, 'KEY_EXPIRED') end
        out[#out + 1] = id
      end
    end
  end
  local left, field = redis.call('SCARD', kh), keyId .. '|' .. t
  if left == 0 then
    redis.call('HDEL', K_ALLOC, field)
    redis.call('UNLINK', vk)
    return true
  end
  if allocOf(keyId, t) > left then redis.call('HSET', K_ALLOC, field, left) end
  return false
end

-- The key ends now for this tenant even if its expiry instant is a little later (removal).
if redis.call('HEXISTS', K_KEYS, keyId) == 1 then redis.call('HSET', K_KEYS, keyId, 1) end
if redis.call('SADD', K_ENDED, keyId) == 1 and TENANT_ID ~= DEFAULT_TENANT_ID then
  for _, t in ipairs(ALL_TYPES) do
    local a = allocOf(keyId, t)
    if a > 0 then auditLine(keyId, t, 'grant-withdrawn', tostring(a), '0', reason) end
  end
end
local lost, promoted, seats, done = {}, {}, {}, true
for _, t in ipairs(ALL_TYPES) do
  local out = {}
  if not withdrawType(t, out) then done = false end
  for _, id in ipairs(out) do
    if t == SEAT then seats[#seats + 1] = id else lost[#lost + 1] = id end
  end
end
local lostTotal = redis.call('HINCRBY', wk, 'lost', #lost)
local seatsTotal = redis.call('HINCRBY', wk, 'seats', #seats)
if done then
  for _, t in ipairs(ALL_TYPES) do
    for _, id in ipairs(promoteWaiting(t)) do promoted[#promoted + 1] = id end
  end
  pruneKeys()
  -- Its progress answers a repeated call as long as op results last, then goes (Z5).
  redis.call('PEXPIRE', wk, OP_RESULT_TTL_MS)
end
ringAppended()
return cjson.encode({ done = done, lost = lost, promoted = promoted, seats = seats, lostTotal = lostTotal, seatsTotal = seatsTotal })
