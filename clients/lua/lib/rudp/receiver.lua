-- The RUDP receiver (spec/rudp.md RUDP-10..RUDP-18): one transfer per source
-- address, each written to its own file in the output directory.
--
-- The logic (Receiver:handle) is apart from the socket (Receiver:run), so
-- that the tests can feed it the spec's scripts with a fake clock: one
-- datagram in, at most one ack out.
local rudp = require("rudp")

local before = rudp.before
local WINDOW = rudp.WINDOW

-- One file arriving from one source address (RUDP-10). ------------------

local Transfer = {}
Transfer.__index = Transfer

-- `path` is the output file, built by the caller from the source address
-- only, never from packet content (RUDP-16). Returns nil and a message when
-- the file cannot be created.
function Transfer.new(path, start, now)
  local partial = path .. ".partial" -- RUDP-15: incomplete until renamed
  local file, err = io.open(partial, "wb")
  if not file then
    return nil, err
  end
  return setmetatable({
    path = path,
    partial = partial,
    start = start,          -- to tell a retransmitted start from a new one (RUDP-18)
    expected = start.seqno, -- next-expected: the next seqno to write
    buffered = {},          -- seqno -> packet, out of order but inside the window
    file = file,
    complete = false,
    last_heard = now,
  }, Transfer)
end

-- RUDP-12: the window is next-expected .. next-expected + 4. Unsigned, since
-- seqnos go up to 2^64 - 1 (see rudp.lua).
function Transfer:in_window(seqno)
  return not before(seqno, self.expected) and before(seqno - self.expected, WINDOW)
end

-- Takes one valid packet of this transfer and writes whatever is now in
-- order. Returns true, or nil and a message when the file cannot be written.
function Transfer:accept(packet, now)
  self.last_heard = now -- RUDP-15: any valid packet counts as activity
  if self.complete or not self.file or not self:in_window(packet.seqno) then
    return true -- RUDP-12, RUDP-17: dropped, but still acked
  end
  if self.buffered[packet.seqno] == nil then -- buffered at most once per seqno
    self.buffered[packet.seqno] = packet
  end
  local next_packet = self.buffered[self.expected]
  while next_packet do -- RUDP-14: written in seqno order, each packet once
    self.buffered[self.expected] = nil
    local ok, err = self.file:write(next_packet.data)
    if not ok then
      return nil, err
    end
    self.expected = self.expected + 1
    if next_packet.type == "end" then
      return self:finish()
    end
    next_packet = self.buffered[self.expected]
  end
  return true
end

-- RUDP-14: the file is written, closed and renamed before end is acked.
function Transfer:finish()
  local ok, err = self.file:close()
  self.file = nil
  if ok then
    ok, err = os.rename(self.partial, self.path)
  end
  if not ok then
    return nil, err
  end
  self.buffered = {}
  self.complete = true
  return true
end

-- RUDP-13: the cumulative ack, carrying next-expected; in SACK mode with the
-- buffered out-of-order seqnos too, each once and ascending (RUDP-30, RUDP-31).
function Transfer:ack(sack)
  if not sack then
    return rudp.encode_ack(self.expected)
  end
  local held = {}
  for seqno in pairs(self.buffered) do
    held[#held + 1] = seqno
  end
  table.sort(held, before) -- pairs() has no order; seqnos compare unsigned
  return rudp.encode_ack(self.expected, held)
end

-- RUDP-15: drops an unfinished transfer, leaving its .partial file.
function Transfer:abandon()
  if self.file then
    self.file:close()
    self.file = nil
  end
end

-- The receiver: every transfer, keyed by source address. -----------------

local Receiver = {}
Receiver.__index = Receiver

Receiver.DEFAULT_PORT = 33122 -- RUDP-61
Receiver.SWEEP_INTERVAL = 0.5 -- seconds between looks for idle transfers (RUDP-15)

-- Options: dir (default "."), timeout in seconds (default 10), sack
-- (boolean), log (a function taking a line of debug output, or nil).
function Receiver.new(options)
  options = options or {}
  return setmetatable({
    dir = options.dir or ".",
    timeout = options.timeout or 10,
    sack = options.sack or false,
    log = options.log,
    transfers = {}, -- file name "<ip>.<port>" -> Transfer (RUDP-10)
  }, Receiver)
end

-- <ip>.<port>, as the course's receiver names its files (RUDP-16), with the
-- ":" of IPv6 addresses replaced (2001_db8__1.6000), as the reference does.
function Receiver.file_name(ip, port)
  return (rudp.plain_ip(ip) .. "." .. port):gsub(":", "_")
end

-- Debug output (-d). `message` may be a function, so that the line is only
-- built when it is wanted.
function Receiver:debug(message)
  if self.log then
    self.log(type(message) == "function" and message() or message)
  end
end

-- RUDP-18: a start with the current start's seqno and data repeats it; any
-- other start begins a new transfer.
local function is_retransmitted_start(transfer, start)
  return transfer ~= nil and transfer.start.seqno == start.seqno and transfer.start.data == start.data
end

-- Handles one datagram from ip:port at time `now` (seconds) and returns the
-- ack to send back, or nil when nothing may be sent.
function Receiver:handle(datagram, ip, port, now)
  local key = Receiver.file_name(ip, port)
  local packet, class, detail = rudp.parse(datagram)
  if not packet then -- RUDP-8: dropped silently, never acked
    self:debug(function() return key .. ": dropped " .. class .. ": " .. detail end)
    return nil
  end
  if rudp.is_ack(packet) then -- RUDP-6: a receiver ignores acks
    self:debug(key .. ": dropped an unexpected " .. packet.type)
    return nil
  end

  local transfer = self.transfers[key]
  if packet.type == "start" and not is_retransmitted_start(transfer, packet) then
    if transfer then
      transfer:abandon()
    end
    local err
    transfer, err = Transfer.new(self.dir .. "/" .. key, packet, now)
    self.transfers[key] = transfer
    if not transfer then
      io.stderr:write("rudp-receiver: ", key, ": ", err, ": transfer dropped\n")
      return nil
    end
    self:debug(function() return key .. ": new transfer from seqno " .. rudp.seqno_text(packet.seqno) end)
  end
  if not transfer then -- RUDP-11: a transfer begins with start; nothing else opens one
    self:debug(function() return key .. ": dropped " .. packet.type .. " " .. rudp.seqno_text(packet.seqno) .. ": no transfer" end)
    return nil
  end

  local ok, err = transfer:accept(packet, now) -- RUDP-17: a completed transfer still acks
  if not ok then -- the disk is full, the directory went away...
    io.stderr:write("rudp-receiver: ", key, ": ", err, ": transfer dropped\n")
    transfer:abandon()
    self.transfers[key] = nil
    return nil
  end
  self:debug(function()
    return string.format("%s: %s %s, next expected %s", key, packet.type,
      rudp.seqno_text(packet.seqno), rudp.seqno_text(transfer.expected))
  end)
  return transfer:ack(self.sack)
end

-- RUDP-15: forgets the transfers idle for the timeout, complete or not.
function Receiver:expire(now)
  for key, transfer in pairs(self.transfers) do
    if now - transfer.last_heard >= self.timeout then
      if not transfer.complete then
        self:debug(key .. ": idle for " .. self.timeout .. " s, dropped")
      end
      transfer:abandon()
      self.transfers[key] = nil -- allowed while traversing with pairs()
    end
  end
end

-- Closes the files of unfinished transfers; their .partial files stay.
function Receiver:close()
  for _, transfer in pairs(self.transfers) do
    transfer:abandon()
  end
end

-- Serves `udp` (a LuaSocket UDP socket bound to the port) until the process
-- is stopped: one socket and one loop for every sender at once. `clock`
-- returns seconds.
function Receiver:run(udp, clock)
  udp:settimeout(Receiver.SWEEP_INTERVAL)
  while true do
    -- A buffer far larger than MAX_DATAGRAM, so that a longer datagram is
    -- seen whole and dropped, rather than cut and taken for a valid one (RUDP-2).
    local datagram, ip, port = udp:receivefrom(65536)
    if datagram then
      local ack = self:handle(datagram, ip, port, clock())
      if ack then
        local sent, err = udp:sendto(ack, ip, port)
        if not sent then -- e.g. the sender's host is unreachable right now
          self:debug(ip .. " port " .. port .. ": " .. err)
        end
      end
    elseif ip ~= "timeout" then -- receivefrom's second result is the error then
      self:debug("receive failed: " .. tostring(ip))
    end
    self:expire(clock())
  end
end

return { Receiver = Receiver, Transfer = Transfer }
