--[[
  A gateway node's liveness beat, stamped with Redis TIME (SPEC F1: host clocks may be skewed,
  so no host clock decides liveness), and the nodes whose beat is older than the timeout.

  KEYS[1] nodes sorted set (node id -> last beat, Redis ms)
  ARGV[1] a tenant base (unused: the shared prelude derives PREFIX from it)
  ARGV[2] node id   ARGV[3] node timeout (ms)
  Returns {now (Redis ms), this node's previous beat (ms) or -1 when absent, dead node, its last beat, ...}.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local node, timeout = ARGV[2], tonumber(ARGV[3])
local prev = redis.call('ZSCORE', KEYS[1], node)
redis.call('ZADD', KEYS[1], now, node)
local reply = {now, prev and tonumber(prev) or -1}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - timeout, 'WITHSCORES')
for i = 1, #dead, 2 do
  reply[#reply + 1] = dead[i]
  reply[#reply + 1] = tonumber(dead[i + 1])
end
return reply
