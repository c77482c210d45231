--[[
  Releases purged Clients' claims in the global client→tenant map (SPEC Z5, C2), so that their
  ids can enroll again: an entry is deleted only while it still names the tenant that purged
  the Client (a claim another tenant made since is never touched). The map lives in the global
  slot, apart from every tenant: purge-uninstalled-1.lua records the ids to release in the
  tenant's K_RELEASED_IDS and src/licensing/retention.ts calls this script, then checks that
  none of the ids enrolled again in that tenant in between (if one did, its claim is restored).

  KEYS[1] the client→tenant hash (Keys.clientTenant)
  ARGV[1] a tenant base (unused: the shared prelude derives PREFIX from it)
  ARGV[2] tenant id   ARGV[3..] client ids
  Returns the number of claims deleted.
]]
local released = 0
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[2] then
    released = released + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return released
