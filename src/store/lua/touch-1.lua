--[[
  Batched last-seen update for the online Clients of one tenant (SPEC C4; one call per tenant
  per flush instead of one write per heartbeat). Also returns each Client's newest command seq,
  so a gateway can repair a lost doorbell (C7) at the next heartbeat flush.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] now (ms)   ARGV[3..] client ids
  Returns the newest command seq of each client id, in order (0 when unknown).
]]
local seqs = {}
for i = 3, #ARGV do
  local ck = kClient(ARGV[i])
  -- Every registered Client has a seq (0 at registration); none means it is gone.
  local seq = redis.call('HGET', ck, 'seq')
  if seq then
    redis.call('HSET', ck, 'lastSeen', ARGV[2])
    seqs[#seqs + 1] = tonumber(seq)
  else
    seqs[#seqs + 1] = 0
  end
end
return seqs
