-- A UDP relay for the end-to-end tests: forwards datagrams between senders
-- and one receiver on loopback, and loses, duplicates and corrupts some of
-- them in both directions, with a seeded random generator; optionally
-- everything during a blackout.
--   lua5.4 tests/lossy_relay.lua LISTEN_PORT RECEIVER_PORT LOSS DUP CORRUPT SEED [BLACKOUT_AT BLACKOUT_SECONDS]
local socket = require("socket")

local listen_port, receiver_port = tonumber(arg[1]), tonumber(arg[2])
local loss, dup, corrupt = tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
math.randomseed(tonumber(arg[6]))
local blackout_at, blackout_seconds = tonumber(arg[7] or "-1"), tonumber(arg[8] or "0")

local udp = assert(socket.udp4())
assert(udp:setsockname("127.0.0.1", listen_port))
local started, sender_port = nil, nil

-- One byte flipped somewhere: the checksum must catch it.
local function damage(datagram)
  local i = math.random(#datagram)
  return datagram:sub(1, i - 1) .. string.char(datagram:byte(i) ~ 0x20) .. datagram:sub(i + 1)
end

while true do
  local datagram, ip, port = udp:receivefrom(65536)
  started = started or socket.gettime()
  local elapsed = socket.gettime() - started
  local to
  if port == receiver_port then
    to = sender_port
  else
    sender_port, to = port, receiver_port
  end
  local dark = blackout_at >= 0 and elapsed >= blackout_at and elapsed < blackout_at + blackout_seconds
  if to and not dark and math.random() >= loss then
    if math.random() < corrupt then
      datagram = damage(datagram)
    end
    udp:sendto(datagram, "127.0.0.1", to)
    if math.random() < dup then
      udp:sendto(datagram, "127.0.0.1", to)
    end
  end
end
