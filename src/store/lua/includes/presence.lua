-- Connection epochs (SPEC C5, F1). Every connection that takes a Client's online record (its
-- Hello) gets the next number of the Client's counter `connEpoch`; `holderEpoch` is the epoch of
-- the connection that holds, or last held, the record. Re-registration (reregister-1.lua)
-- compares a live connection's epoch with `holderEpoch` instead of tokens: a newer connection
-- whose Hello Redis lost (a restart from an older AOF) takes the record back from the older one
-- named in it, and an older connection never takes it from a newer one.
local function takeRecordEpoch(ck)
  local epoch = redis.call('HINCRBY', ck, 'connEpoch', 1)
  redis.call('HSET', ck, 'holderEpoch', epoch)
  return epoch
end
