--[[
  Batched last-seen update for the online Clients of one tenant (SPEC C4; one call per tenant
  per flush instead of one write per heartbeat). Also returns each Client's newest command seq,
  so a gateway can repair a lost doorbell (C7) at the next heartbeat flush.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] now (ms), or '' for Redis TIME (the gateway's flush: last-seen
          stays on one clock whatever the host's, F1)   ARGV[3..] client ids
  Returns the newest command seq of each client id, in order (0 when unknown).
]]
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local seqs = {}
for i = 3, #ARGV do
  local ck = kClient(ARGV[i])
  -- Every registered Client has a seq (0 at registration); none means it is gone.
  local seq = redis.call('HGET', ck, 'seq')
  if seq then
    redis.call('HSET', ck, 'lastSeen', now)
    seqs[#seqs + 1] = tonumber(seq)
  else
    seqs[#seqs + 1] = 0
  end
end
return seqs
