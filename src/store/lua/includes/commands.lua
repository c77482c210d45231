-- Appends a command to a Client's durable log (a stream with entry ids 0-<seq>); returns seq.
-- kind: 'start' (arg = license type), 'stop' (arg = reason), 'uninstall' (arg = '').
local function appendCommand(clientId, kind, arg)
  local seq = redis.call('HINCRBY', kClient(clientId), 'seq', 1)
  redis.call('XADD', kCommands(clientId), '0-' .. seq, 'k', kind, 'a', arg)
  return seq
end
