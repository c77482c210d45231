-- Commands this script appended, by Client id, in order: the doorbell carries them (ringAppended).
local APPENDED, APPENDED_IDS = {}, {}

-- Appends a command to a Client's durable log (a stream with entry ids 0-<seq>); returns seq.
-- kind: 'start' (arg = license type), 'stop' (arg = reason), 'uninstall' (arg = '').
local function appendCommand(clientId, kind, arg)
  local seq = redis.call('HINCRBY', kClient(clientId), 'seq', 1)
  redis.call('XADD', kCommands(clientId), '0-' .. seq, 'k', kind, 'a', arg)
  -- Its ack ends the Client's last connection (ack-1.lua, SPEC C8).
  if kind == 'uninstall' then redis.call('HSET', kClient(clientId), 'uninstallSeq', seq) end
  local list = APPENDED[clientId]
  if not list then
    list = {}
    APPENDED[clientId] = list
    APPENDED_IDS[#APPENDED_IDS + 1] = clientId
  end
  list[#list + 1] = { seq, kind, arg }
  return seq
end

-- The doorbell (SPEC C7), rung from inside the script that changed the logs, so no caller can
-- forget it or crash before it: one PUBLISH per gateway node holding an online Client whose
-- log grew, carrying the new commands so that the node sends them without reading the log.
-- The log stays the truth: a node that sees a gap, or no message at all, reads the log.
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
    redis.call('PUBLISH', kNodeChannel(node), cjson.encode(byNode[node]))
  end
end
