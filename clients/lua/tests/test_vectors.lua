-- Every vector of spec/vectors/datagrams.json and receiver.json.
local t = require("support.testing")
local vectors = require("support.vectors")
local json = require("support.json")
local rudp = require("rudp")
local Receiver = require("rudp.receiver").Receiver

local function encode(packet)
  if packet.type == "ack" then
    return rudp.encode_ack(packet.seqno)
  elseif packet.type == "sack" then
    return rudp.encode_ack(packet.seqno, packet.sacks)
  end
  return rudp.encode(packet.type, packet.seqno, packet.data)
end

local function check_datagram(vector)
  local datagram = vectors.bytes(vector.datagram)
  local packet, class = rudp.parse(datagram)
  if not vector.valid then
    t.eq(nil, packet, "accepted an invalid datagram")
    t.eq(vector.error, class, "error class")
    return
  end
  t.ok(packet, "rejected a valid datagram: " .. tostring(class))
  local expected = vector.packet
  t.eq(expected.type, packet.type, "type")
  t.eq(expected.seqno, rudp.seqno_text(packet.seqno), "seqno")
  if expected.data then
    t.eq(vectors.bytes(expected.data), packet.data, "data")
  end
  local sacks = {}
  for i, s in ipairs(packet.sacks) do
    sacks[i] = rudp.seqno_text(s)
  end
  t.same_list(expected.sacks or {}, sacks, "sacks")
  if vector.canonical then
    t.eq(datagram, encode(packet), "encoding")
  end
end

-- Feeds the script's datagrams to the receiver's logic with a fake clock,
-- checks every ack, then the files left in the output directory.
local function run_script(script)
  local dir = t.temp_dir()
  local receiver = Receiver.new({ dir = dir, timeout = script.idle_timeout_ms / 1000, sack = script.sack })
  for i, step in ipairs(script.steps) do
    local now = step.at_ms / 1000
    receiver:expire(now)
    local ip, port = step.from:match("^%[?(.-)%]?:(%d+)$")
    local ack = receiver:handle(vectors.bytes(step.datagram), ip, tonumber(port), now)
    local where = string.format("step %d (%s): %s", i, step.datagram.escaped:sub(1, 40),
      step.note ~= nil and tostring(step.note) or "")
    if step.ack ~= json.null then
      t.eq(vectors.bytes(step.ack), ack, where)
    else
      t.eq(nil, ack, where)
    end
  end
  receiver:close()
  local expected_names = {}
  for _, file in ipairs(script.files) do
    expected_names[#expected_names + 1] = file.name
  end
  table.sort(expected_names)
  -- A receiver names files only from source addresses (RUDP-16).
  local candidates = {}
  for _, step in ipairs(script.steps) do
    local ip, port = step.from:match("^%[?(.-)%]?:(%d+)$")
    local name = Receiver.file_name(ip, tonumber(port))
    candidates[name], candidates[name .. ".partial"] = true, true
  end
  local names = {}
  for name in pairs(candidates) do
    names[#names + 1] = name
  end
  t.same_list(expected_names, t.files_in(dir, names), "output files")
  for _, file in ipairs(script.files) do
    t.eq(vectors.bytes(file.content), t.read_file(dir .. "/" .. file.name), file.name)
  end
end

local tests = {
  { "the copies in tests/vectors are current", function()
    for _, name in ipairs({ "datagrams.json", "receiver.json" }) do
      local spec = io.open(vectors.SPEC_DIR .. "/" .. name, "rb")
      if spec then -- absent in docker build, which sees only this folder
        local current = spec:read("a")
        spec:close()
        t.ok(current == t.read_file(vectors.DIR .. "/" .. name),
          "tests/vectors/" .. name .. " is stale: copy spec/vectors/" .. name .. " over it")
      end
    end
  end },
}
for _, vector in ipairs(vectors.load("datagrams.json").vectors) do
  tests[#tests + 1] = { "datagram: " .. vector.name, function() check_datagram(vector) end }
end
for _, script in ipairs(vectors.load("receiver.json").vectors) do
  tests[#tests + 1] = { "receiver: " .. script.name, function() run_script(script) end }
end
return tests
