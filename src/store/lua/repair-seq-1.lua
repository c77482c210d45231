--[[
  Repairs a Client's command log after Redis lost its last writes while the agent stayed
  connected (SPEC F4, C7). The gateway calls it when its connection has sent a seq beyond the
  Client's stored seq, which only a loss can cause (a restart from an older AOF, a failover to
  a lagging replica). The agent has applied commands Redis forgot, so its state may differ
  from Redis's: the counter moves past what the connection sent (so no seq repeats) and one
  command restating the Client's state as Redis holds it is appended (StartMonitoring(type),
  StopMonitoring(reason) or Uninstall), which the agent applies like any other. A no-op when the
  stored seq has reached `floor` (nothing lost, or a later append already skipped past it).
  The caller delivers the command itself (no doorbell: the online hash may have lost this
  connection too).

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] client id   ARGV[3] floor: highest seq sent on the connection
  Returns {'OK', seq of the restating command, or 0 when nothing was lost} or {'CLIENT_NOT_FOUND'}.
]]
local clientId, floor = ARGV[2], tonumber(ARGV[3])
local ck = kClient(clientId)
local c = redis.call('HMGET', ck, 'status', 'seq', 'type', 'reason')
if not c[1] then return {'CLIENT_NOT_FOUND'} end
if tonumber(c[2] or '0') >= floor or floor >= SEQ_LIMIT then return {'OK', 0} end
-- The connection's high-water mark is the truth now: continue right after it, no gap needed.
redis.call('HSET', ck, 'seq', floor, 'runId', redisRunId())
local seq
if c[1] == 'uninstalled' then
  seq = appendCommand(clientId, 'uninstall', '')
elseif c[3] and c[3] ~= '' then
  seq = appendCommand(clientId, 'start', c[3])
else
  seq = appendCommand(clientId, 'stop', c[4] or '')
end
return {'OK', seq}
