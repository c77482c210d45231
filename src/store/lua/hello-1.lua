--[[
  Authenticates a Client's Hello, registers it on first connect, assigns its OS-matched
  license if it has none (SPEC C2, C3, L3, L4), marks it online (C4, C5) and returns the
  commands to replay after the acked sequence (C7). One round trip, atomic in the tenant slot.
  Nothing is written unless authentication succeeds.

  KEYS[1] tenant hash (routing; every key used is in its slot)
  ARGV[1] tenant base        ARGV[2] client id         ARGV[3] mode: 'enroll' | 'auth'
  ARGV[4] sha256(secret)     ARGV[5] wanted type ('' when the OS matches none)
  ARGV[6] now (ms)           ARGV[7] connection token  ARGV[8] hostname
  ARGV[9] os family          ARGV[10] os product type  ARGV[11] multi-session '1'|'0'
  ARGV[12] cloud provider    ARGV[13] os version       ARGV[14] agent version
  ARGV[15] non-persistent    ARGV[16] last acked seq reported by the agent
  ARGV[17] credential hash to store on registration    ARGV[18] max commands to return
  ARGV[19] sha256(Hello.enrollment_proof) or '' (enroll mode only)
  ARGV[20] default enrollments per second  ARGV[21] default enrollment burst (tenant fields override)

  Identity and enrollment limits (SPEC Z3, docs/identity.md), enroll mode only, after the token
  check: a registered client id whose record holds a proofHash enrolls again only with that
  proof (else AUTH_FAILED, whatever its state, so a token holder learns nothing of it); a
  tenant with requireProof='1' enrolls no Hello without a proof (ENROLLMENT_PROOF_REQUIRED). A
  new registration is refused at the tenant's maxClients (TENANT_CLIENT_LIMIT) and needs a
  token of the tenant's enrollment bucket (enrollTokens/enrollAt, refilled at enrollRate per
  second up to enrollBurst): else {'ENROLL_RATE_LIMITED', ms until a token is there}.

  An uninstalled Client (C8) is served only to the credential an admin revoked while it was
  away (revokedCredHash, see uninstall-1.lua), so that it learns it on its next connect (F4):
  it goes online unlicensed (reason UNINSTALLED) and gets its log replayed, which ends with
  Command{uninstall}; its ack ends the connection (ack-1.lua). When its last_acked_seq shows it
  applied that Uninstall already (the ack was lost), it gets CLIENT_UNINSTALLED. Any other
  credential gets AUTH_FAILED, as before: nothing is revealed to it.

  Returns {'OK', registered 0|1, held type, reason, previous connection token, acked,
           reclaimed client id or '', confirmed 0|1, uninstalled 0|1, connection epoch
           (includes/presence.lua), entries...} where entries
           are XRANGE replies, or {ERROR_CODE}.
]]
local clientId, mode, secretHash, wantType = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local reclaimed = ''
local now, conn = ARGV[6], ARGV[7]
local ck = kClient(clientId)
CTX.now, CTX.actor, CTX.cause = tonumber(now), 'system', 'hello'

-- The agent's last_acked_seq acknowledges everything up to it. Beyond the log's seq it means
-- Redis lost its last writes (SPEC F4: restart from an older AOF, failover to a lagging
-- replica): the agent applied commands Redis forgot. The counter moves past them, so no new
-- command reuses a seq the agent holds, and the Welcome states the license Redis has now.
-- Returns the Client's seq and acked after it.
local function claimAcked()
  local seq = tonumber(redis.call('HGET', ck, 'seq') or '0')
  local acked = tonumber(redis.call('HGET', ck, 'acked') or '0')
  local claimed = tonumber(ARGV[16]) or 0
  if claimed >= SEQ_LIMIT then claimed = seq end
  if claimed > seq then
    seq = claimed
    redis.call('HSET', ck, 'seq', seq)
  end
  if claimed > acked then
    acked = claimed
    redis.call('HSET', ck, 'acked', acked)
    redis.call('XTRIM', kCommands(clientId), 'MINID', '0-' .. (acked + 1))
  end
  return seq, acked
end

-- Z3: the tenant's identity policy and limits, read once per enrollment (one HMGET):
-- requireProof, maxClients, enrollRate, enrollBurst, enrollTokens, enrollAt.
local proofHash = ARGV[19] or ''
local function tenantLimits()
  return redis.call('HMGET', K_TENANT, 'requireProof', 'maxClients', 'enrollRate', 'enrollBurst', 'enrollTokens', 'enrollAt')
end

-- Z3: a registered client id bound to a proof re-enrolls only with it; a tenant may require
-- proofs. Returns a refusal code or nil. Enroll mode only (never on the reconnect hot path).
local function proofRefusal(status, lim)
  if status then
    local stored = redis.call('HGET', ck, 'proofHash')
    if stored and stored ~= proofHash then return 'ENROLLMENT_PROOF_MISMATCH' end
  end
  if proofHash == '' and lim[1] == '1' then return 'ENROLLMENT_PROOF_REQUIRED' end
  return nil
end

-- Z3: the tenant's cap and enrollment rate, for a new registration. Takes one token of the
-- bucket when it allows it; returns nil, or a refusal code and the retry hint (ms).
local function enrollLimitRefusal(lim)
  local t = { lim[2], lim[3], lim[4], lim[5], lim[6] }
  local maxClients = tonumber(t[1] or '') or 0
  if maxClients > 0 and redis.call('SCARD', K_CLIENTS) >= maxClients then return 'TENANT_CLIENT_LIMIT', 0 end
  local rate = tonumber(t[2] or '') or tonumber(ARGV[20])
  local burst = tonumber(t[3] or '') or tonumber(ARGV[21])
  local nowMs = tonumber(now)
  local tokens = math.min(tonumber(t[4] or '') or burst, burst)
  local at = tonumber(t[5] or '') or nowMs
  -- A gateway whose clock is behind the last stamp adds nothing (never refills twice).
  if nowMs > at then
    tokens = math.min(burst, tokens + (nowMs - at) * rate / 1000)
    at = nowMs
  end
  if tokens < 1 then return 'ENROLL_RATE_LIMITED', math.ceil((1 - tokens) * 1000 / rate) end
  redis.call('HSET', K_TENANT, 'enrollTokens', tostring(tokens - 1), 'enrollAt', tostring(at))
  return nil
end

if redis.call('EXISTS', K_TENANT) == 0 then return {'UNKNOWN_TENANT'} end
local status = redis.call('HGET', ck, 'status')
local registered = 0
if mode == 'enroll' then
  if redis.call('HGET', K_TENANT, 'enrollTokenHash') ~= secretHash and not (redis.call('HGET', K_TENANT, 'prevEnrollTokenHash') == secretHash and tonumber(now) < tonumber(redis.call('HGET', K_TENANT, 'prevEnrollTokenUntil') or '0')) then return {'AUTH_FAILED'} end
  local lim = tenantLimits()
  local refusedProof = proofRefusal(status, lim)
  if refusedProof then return {refusedProof} end
  if status == 'uninstalled' then return {'CLIENT_UNINSTALLED'} end
  if status and redis.call('HGET', ck, 'confirmed') == '1' then return {'CLIENT_ALREADY_REGISTERED'} end
  -- Registered, never confirmed, and its connection is still open: nobody else may enroll it
  -- now; if that connection is a dead attempt of the same agent, its close is on the way.
  if status and redis.call('HEXISTS', K_ONLINE, clientId) == 1 then return {'ENROLLMENT_PENDING'} end
  if status then
    -- Registered, but the agent never showed it received its credential (no frame after that
    -- Welcome, no Hello with it) and that connection is gone: the Welcome was lost. Enrolling
    -- again issues a new credential and keeps everything else, so an agent is never locked out
    -- by a dropped connection. A client id registered without a proof (an older agent) is
    -- bound to the first proof it enrolls with (Z3).
    redis.call('HSET', ck, 'credHash', ARGV[17])
    if proofHash ~= '' then redis.call('HSET', ck, 'proofHash', proofHash) end
  else
    local refusedLimit, retryMs = enrollLimitRefusal(lim)
    if refusedLimit then return {refusedLimit, retryMs} end
    redis.call('HSET', ck, 'status', 'active', 'credHash', ARGV[17], 'registeredAt', now,
      'seq', 0, 'acked', 0, 'type', '', 'reason', '', 'waitType', '')
    if proofHash ~= '' then redis.call('HSET', ck, 'proofHash', proofHash) end
    redis.call('SADD', K_CLIENTS, clientId)
    -- The paging index (docs/client-pages.md): new registrations only, never on reconnect.
    redis.call('ZADD', K_CLIENT_INDEX, 0, clientId)
  end
  registered = 1
elseif status == 'uninstalled' then
  if redis.call('HGET', ck, 'revokedCredHash') ~= secretHash then return {'AUTH_FAILED'} end
  local _, acked = claimAcked()
  if acked >= tonumber(redis.call('HGET', ck, 'uninstallSeq') or '0') then
    -- It applied the Uninstall already (or its ack was lost): nothing more to serve.
    return {'CLIENT_UNINSTALLED'}
  end
  local prev = redis.call('HGET', K_ONLINE, clientId) or ''
  redis.call('HSET', K_ONLINE, clientId, conn)
  redis.call('INCR', K_PRESENCE)
  local epoch = takeRecordEpoch(ck)
  redis.call('HSET', ck, 'lastSeen', now)
  local reply = {'OK', 0, '', 'UNINSTALLED', prev, acked, '', 1, 1, epoch}
  for _, e in ipairs(redis.call('XRANGE', kCommands(clientId), '(0-' .. acked, '+', 'COUNT', tonumber(ARGV[18]))) do
    reply[#reply + 1] = e
  end
  return reply
else
  if status ~= 'active' or redis.call('HGET', ck, 'credHash') ~= secretHash then return {'AUTH_FAILED'} end
  redis.call('HSET', ck, 'confirmed', '1')
end

redis.call('HSET', ck, 'hostname', ARGV[8], 'osFamily', ARGV[9], 'osProduct', ARGV[10],
  'multiSession', ARGV[11], 'cloudProvider', ARGV[12], 'osVersion', ARGV[13],
  'agentVersion', ARGV[14], 'nonPersistent', ARGV[15], 'wantType', wantType, 'lastSeen', now)
local prevConn = redis.call('HGET', K_ONLINE, clientId) or ''
redis.call('HSET', K_ONLINE, clientId, conn)
redis.call('INCR', K_PRESENCE)
local epoch = takeRecordEpoch(ck)

local seq, acked = claimAcked()
-- Nothing left to replay: a license assigned now is told by the Welcome alone, with no
-- StartMonitoring to send and acknowledge. With commands pending it is queued after them, so
-- that replaying them in order still ends in the state the Welcome states.
local inWelcome = (seq == acked)

local held = redis.call('HGET', ck, 'type') or ''
if held ~= '' then redis.call('ZREM', kOfflineHolders(held), clientId) end
if held == '' and redis.call('HGET', ck, 'reason') ~= 'UNASSIGNED_BY_ADMIN' then
  local waitType = redis.call('HGET', ck, 'waitType') or ''
  if waitType ~= '' and waitType ~= wantType then leaveQueue(clientId) end
  if wantType == '' then
    redis.call('HSET', ck, 'reason', 'NO_MATCHING_TYPE', 'waitType', '')
  else
    -- Waiting Clients ahead of this one are served first (SPEC C9).
    local ahead = redis.call('ZRANK', kWaiting(wantType), clientId) or redis.call('ZCARD', kWaiting(wantType))
    -- C11: nobody waits ahead and the pool is empty: the reclaim policy may free one.
    if ahead == 0 and freeCount(wantType) == 0 then reclaimed = reclaimFor(wantType) or '' end
    if freeCount(wantType) > ahead and assignLicense(clientId, wantType, registered == 1 and 'first-connect' or 'reconnect', inWelcome) then
      held = wantType
    else
      waitForLicense(clientId, wantType, redis.call('HGET', ck, 'reason') == 'KEY_EXPIRED' and 'KEY_EXPIRED' or 'NO_LICENSE_AVAILABLE')
    end
  end
end

local entries = redis.call('XRANGE', kCommands(clientId), '(0-' .. acked, '+', 'COUNT', tonumber(ARGV[18]))

-- Others whose logs grew here (a Client the reclaim policy took from) are rung; this one replays.
ringAppended(clientId)

local confirmed = redis.call('HGET', ck, 'confirmed') == '1' and 1 or 0
local reply = {'OK', registered, held, redis.call('HGET', ck, 'reason') or '', prevConn, acked, reclaimed, confirmed, 0, epoch}
for _, e in ipairs(entries) do reply[#reply + 1] = e end
return reply
