--[[
  Removes a reaped node from the registry, but only if it has not beaten since the reaper read
  its last beat: a node that came back meanwhile keeps its entry (SPEC F1).

  KEYS[1] nodes sorted set
  ARGV[1] a tenant base (unused: the shared prelude derives PREFIX from it)
  ARGV[2] node id   ARGV[3] the last beat the reaper saw (ms)
  Returns 1 when removed, else 0.
]]
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if score and tonumber(score) == tonumber(ARGV[3]) then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 1
end
return 0
