-- Commands this script appended, by Client id, in order: the doorbell carries them (ringAppended).
local APPENDED, APPENDED_IDS = {}, {}

-- SPEC F4: a Client's seq counter lives in Redis, and a Redis that restarts from an older
-- AOF/RDB, or a replica promoted before it had the last writes, has forgotten its last
-- increments; the agent, and the gateway connection that sent them, have not. Each Client hash
-- records the Redis process (run_id) that last advanced its counter; the first command a
-- different process appends skips SEQ_GAP seqs, past anything the lost writes can have issued
-- (they span the loss window, seconds of changes; no Client gets a million commands in it).
-- A clean restart skips too, harmlessly: seqs only have to increase. Hello (hello-1.lua) and
-- the gateway's repair (repair-seq-1.lua) also move the counter past what the agent has.
local SEQ_GAP = 1048576
-- Seqs stay below this: Lua prints numbers with 14 significant digits ('0-' .. seq must be
-- exact), and a claim above it (hello-1.lua) is corrupt or hostile, never a seq that was sent.
local SEQ_LIMIT = 1e13
local RUN_ID = nil
-- This Redis process's run_id, read once per script call (INFO costs microseconds); '' where
-- INFO is not allowed (a managed Redis may rename it): no skip then, never a failed script.
local function redisRunId()
  if not RUN_ID then
    local info = redis.pcall('INFO', 'server')
    RUN_ID = type(info) == 'string' and string.match(info, 'run_id:(%w+)') or ''
  end
  return RUN_ID
end

-- When this script appended its commands (Redis TIME, ms; read once per call): the start of the
-- gateway's delivery latency (append -> ack, SPEC H4), field t of the entry and 4th element of
-- the doorbell's copy.
local APPENDED_AT = nil
local function appendedAt()
  if not APPENDED_AT then
    local t = redis.call('TIME')
    APPENDED_AT = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return APPENDED_AT
end

-- Appends a command to a Client's durable log (a stream with entry ids 0-<seq>); returns seq.
-- kind: 'start' (arg = license type), 'stop' (arg = reason), 'uninstall' (arg = '').
local function appendCommand(clientId, kind, arg)
  local ck = kClient(clientId)
  local writer = redis.call('HGET', ck, 'runId')
  if writer ~= redisRunId() then
    -- A hash written before run ids were recorded (writer = false) has no loss to skip.
    if writer then redis.call('HINCRBY', ck, 'seq', SEQ_GAP) end
    redis.call('HSET', ck, 'runId', redisRunId())
  end
  local seq = redis.call('HINCRBY', ck, 'seq', 1)
  redis.call('XADD', kCommands(clientId), '0-' .. seq, 'k', kind, 'a', arg, 't', appendedAt())
  -- Its ack ends the Client's last connection (ack-1.lua, SPEC C8).
  if kind == 'uninstall' then redis.call('HSET', ck, 'uninstallSeq', seq) end
  local list = APPENDED[clientId]
  if not list then
    list = {}
    APPENDED[clientId] = list
    APPENDED_IDS[#APPENDED_IDS + 1] = clientId
  end
  list[#list + 1] = { seq, kind, arg, appendedAt() }
  return seq
end

-- The doorbell (SPEC C7), rung from inside the script that changed the logs, so no caller can
-- forget it or crash before it: one SPUBLISH per gateway node holding an online Client whose
-- log grew, carrying the new commands so that the node sends them without reading the log.
-- The log stays the truth: a node that sees a gap, or no message at all, reads the log.
-- Sharded, in this tenant's slot: on a Cluster it stays in this shard (docs/redis-modes.md).
-- skipId: the Client whose own Hello is running (its commands go back in the reply).
local function ringAppended(skipId)
  local byNode, nodes = {}, {}
  for _, id in ipairs(APPENDED_IDS) do
    local conn = (id ~= skipId) and redis.call('HGET', K_ONLINE, id)
    if conn then
      local node = string.match(conn, '^(.*):[^:]*$')
      if node then
        local msg = byNode[node]
        if not msg then
          msg = { t = 'cmd', tenant = TENANT_ID, clients = {}, cmds = {} }
          byNode[node] = msg
          nodes[#nodes + 1] = node
        end
        msg.clients[#msg.clients + 1] = id
        msg.cmds[id] = APPENDED[id]
      end
    end
  end
  for _, node in ipairs(nodes) do
    redis.call('SPUBLISH', kDoorbellChannel(node), cjson.encode(byNode[node]))
  end
end
