--[[
  Goes on with promotions of waiting Clients that an earlier script left unfinished when its
  work budget ran out (SPEC C9, F6): every type listed in the tenant's promoting hash, from
  where it stopped, within this call's budget. drainPromotions (src/licensing/promotion.ts)
  calls it until nothing is pending; its periodic pass picks up what a crash left.

  KEYS[1] tenant hash (routing)
  ARGV[1] tenant base   ARGV[2] now (ms)   ARGV[3] actor   ARGV[4] cause
  Returns JSON {promoted: [client ids], pending: true while promotions remain}.
]]
CTX.now, CTX.actor, CTX.cause = tonumber(ARGV[2]), ARGV[3], ARGV[4]
local promoted = {}
for _, t in ipairs(redis.call('HKEYS', K_PROMOTING)) do
  if not workLeft() then break end
  for _, id in ipairs(promoteWaiting(t)) do promoted[#promoted + 1] = id end
end
ringAppended()
return cjson.encode({ promoted = promoted, pending = redis.call('EXISTS', K_PROMOTING) == 1 })
