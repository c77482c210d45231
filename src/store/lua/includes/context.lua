-- Per-call context, set by each script before it calls the helpers below:
-- CTX.now (ms), CTX.actor (user id or 'system'), CTX.cause (why: job id, 'hello', 'expiry:<key>', ...).
local CTX = { now = 0, actor = 'system', cause = '' }
local SEAT = 'pam-seat'

-- Appends one license change to the tenant's audit trail (SPEC A5): nothing changes a license
-- without a line here, because every change goes through assignLicense / unassignLicense.
local function audit(holderId, t, action, before, after, reason)
  redis.call('XADD', K_AUDIT, '*', 'ts', CTX.now, 'holder', holderId, 'holderKind', (t == SEAT) and 'user' or 'client',
    'type', t, 'action', action, 'before', before, 'after', after, 'reason', reason, 'actor', CTX.actor, 'cause', CTX.cause)
end

-- Appends an event for the tenant's admin services (SPEC A6): fields type, ts, data (JSON).
local EVENTS_MAXLEN = 100000
local function emitEvent(eventType, data)
  redis.call('XADD', K_EVENTS, 'MAXLEN', '~', EVENTS_MAXLEN, '*', 'type', eventType, 'ts', CTX.now, 'data', cjson.encode(data))
end
