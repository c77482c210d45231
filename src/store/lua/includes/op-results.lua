-- Results of operations by op id (SPEC A3, F3): a script that changes the ledger on behalf of
-- an admin job or a saga step first looks for its op's stored result and returns it unchanged;
-- otherwise it runs and stores what it returned — refusals included — in the same atomic call.
-- So a retry after a crash or a lost reply has no second effect and returns the first result.
-- One string key per op, expiring after OP_RESULT_TTL_MS (keys.ts OP_RESULT_RETENTION_MS: as
-- long as the admin client keeps finished jobs), so the store stays bounded (SPEC Z5).
-- An empty (or absent) op id means "no op": nothing is looked up or stored.

local function storedResult(opId)
  if opId == nil or opId == '' then return nil end
  local json = redis.call('GET', kOpResult(opId))
  if json then return json end
  return nil
end

-- Stores `json` (a string, or a table to encode) as op's result; returns the JSON string.
local function storeResult(opId, json)
  if type(json) == 'table' then json = cjson.encode(json) end
  if opId and opId ~= '' then redis.call('SET', kOpResult(opId), json, 'PX', OP_RESULT_TTL_MS) end
  return json
end
