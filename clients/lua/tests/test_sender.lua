-- How the sender cuts its input into packets (RUDP-7, RUDP-46), and the RTO
-- arithmetic (RUDP-41).
local t = require("support.testing")
local rudp = require("rudp")
local sender = require("rudp.sender")
local Packetizer, RttEstimator = sender.Packetizer, sender.RttEstimator

-- An input file holding `data` (io.tmpfile: Lua's own anonymous file).
local function input(data)
  local file = assert(io.tmpfile())
  file:write(data)
  file:seek("set")
  return file
end

-- Every packet of `data` from `first`, decoded.
local function packets(data, first)
  local p = Packetizer.new(input(data), first)
  local list = {}
  while true do
    local seqno, datagram, last = p:next_packet()
    if not seqno then
      break
    end
    local packet = assert(rudp.parse(datagram))
    t.eq(seqno, packet.seqno)
    t.ok(#datagram <= rudp.MAX_DATAGRAM, "datagram of " .. #datagram .. " bytes")
    t.eq(packet.type == "end", last, "last flag")
    list[#list + 1] = packet
  end
  return list
end

local function kinds(list)
  local out = {}
  for i, packet in ipairs(list) do
    out[i] = packet.type
  end
  return table.concat(out, " ")
end

local function joined(list)
  local out = {}
  for i, packet in ipairs(list) do
    out[i] = packet.data
  end
  return table.concat(out)
end

return {
  { "empty input: start and end, both empty", function()
    local list = packets("", 5)
    t.eq("start end", kinds(list))
    t.eq("", joined(list))
    t.eq(6, list[2].seqno)
  end },

  { "one byte: start carries it, end is empty", function()
    local list = packets("x", 0)
    t.eq("start end", kinds(list))
    t.eq("x", list[1].data)
    t.eq("", list[2].data)
  end },

  { "exactly one full start: end is empty", function()
    local size = rudp.max_payload("start", 0)
    local list = packets(string.rep("a", size), 0)
    t.eq("start end", kinds(list))
    t.eq(size, #list[1].data)
  end },

  { "one byte more: end carries it", function()
    local size = rudp.max_payload("start", 0)
    local list = packets(string.rep("a", size) .. "b", 0)
    t.eq("start end", kinds(list))
    t.eq("b", list[2].data)
  end },

  { "larger input: start, data..., end with the last piece; full datagrams", function()
    local data = {}
    for i = 1, 10000 do
      data[i] = string.char(i % 256)
    end
    data = table.concat(data)
    local list = packets(data, 7)
    t.eq("start data data data data data end", kinds(list))
    t.eq(data, joined(list))
    for i = 1, #list - 1 do
      t.eq(1472, #rudp.encode(list[i].type, list[i].seqno, list[i].data) + (10 - #rudp.checksum(
        rudp.encode(list[i].type, list[i].seqno, list[i].data):match("^(.*|)"))), "room for 10 checksum digits")
    end
  end },

  { "seqnos gaining a digit keep every datagram within 1472 bytes", function()
    local data = string.rep("\0|\255", 3000)
    local list = packets(data, 8)
    t.eq(data, joined(list))
    t.eq(8, list[1].seqno)
    t.eq(8 + #list - 1, list[#list].seqno)
  end },

  { "RTO: 500 ms before the first sample, then RFC 6298 within 200 ms .. 1 s", function()
    local rtt = RttEstimator.new()
    t.eq(0.5, rtt.rto)
    rtt:back_off()
    t.eq(1.0, rtt.rto)
    rtt:back_off()
    t.eq(1.0, rtt.rto, "capped")
    rtt:sample(0.1) -- srtt 0.1, rttvar 0.05: 0.1 + 0.2
    t.ok(math.abs(rtt.rto - 0.3) < 1e-9, "rto " .. rtt.rto)
    rtt:sample(0.1) -- rttvar 0.0375: 0.1 + 0.15, floor 0.2
    t.ok(math.abs(rtt.rto - 0.25) < 1e-9, "rto " .. rtt.rto)
    for _ = 1, 50 do
      rtt:sample(0.001)
    end
    t.eq(0.2, rtt.rto, "floor")
    rtt:sample(5)
    t.eq(1.0, rtt.rto, "cap")
  end },
}
