-- The RUDP sender (spec/rudp.md RUDP-40..RUDP-46): sends one input reliably
-- to a receiver over a connected UDP socket.
--
-- One loop: send while the window allows, wait for an ack or
-- a timer with socket.select, react. The design follows the reference
-- sender ("How the reference sender works" in spec/rudp.md) in a smaller form.
local socket = require("socket")
local rudp = require("rudp")

local before = rudp.before
local WINDOW = rudp.WINDOW

-- Packetizer: cuts the input into the packets of one transfer. ------------
--
-- RUDP-7: start first with the first payload, data after it, end last with
-- the last payload, or empty when the input ends inside start (an empty or a
-- one-packet file). Every payload but the last is as large as a datagram
-- allows (RUDP-46). It reads one payload ahead, because end must carry the
-- last payload: a packet's type is known only once we know whether more
-- input follows. Only that one payload is kept, so any input size works.
local Packetizer = {}
Packetizer.__index = Packetizer

-- `input` is an open file (io.open(..., "rb") or io.stdin).
function Packetizer.new(input, first_seqno)
  local self = setmetatable({ input = input, first = first_seqno, seqno = first_seqno }, Packetizer)
  self.data = self:read(rudp.max_payload("start", first_seqno)) -- the next packet's payload
  return self
end

-- file:read(n) waits for n bytes or the end of input (a pipe gives short
-- reads, fread does not); nil means the end. A read error ends with error().
function Packetizer:read(size)
  local data, err = self.input:read(size)
  if err then
    error("cannot read the input: " .. err, 0)
  end
  return data or ""
end

-- The next packet: seqno, datagram, and whether it is the last (end); nil
-- after end.
function Packetizer:next_packet()
  if self.data == nil then
    return nil
  end
  local seqno, data = self.seqno, self.data
  self.seqno = seqno + 1
  local following = self:read(rudp.max_payload("data", self.seqno))
  local kind
  if seqno == self.first then
    kind = "start"
  elseif following == "" then
    kind = "end"
  else
    kind = "data"
  end
  self.data = (kind ~= "end") and following or nil
  return seqno, rudp.encode(kind, seqno, data), kind == "end"
end

-- RttEstimator: the retransmission timeout (RTO) from measured round-trip
-- times, as RFC 6298 says (RUDP-41), with the limits spec/rudp.md recommends.
local RttEstimator = {}
RttEstimator.__index = RttEstimator

RttEstimator.INITIAL = 0.5 -- seconds: the course's 500 ms, until the first sample
RttEstimator.MIN = 0.2     -- Linux's floor: below it, scheduling hiccups fire the timer
RttEstimator.MAX = 1.0     -- the backoff cap, far below the receiver's 10 s idle timeout (RUDP-44)

function RttEstimator.new()
  -- srtt stays nil until the first sample.
  return setmetatable({ srtt = nil, rttvar = 0, rto = RttEstimator.INITIAL }, RttEstimator)
end

local function clamp(x, low, high)
  return math.max(low, math.min(high, x))
end

-- RFC 6298 (2.2) for the first sample, (2.3) after it.
function RttEstimator:sample(rtt)
  if self.srtt == nil then
    self.srtt = rtt
    self.rttvar = rtt / 2
  else
    self.rttvar = 0.75 * self.rttvar + 0.25 * math.abs(self.srtt - rtt)
    self.srtt = 0.875 * self.srtt + 0.125 * rtt
  end
  self:reset()
end

-- The timeout without backoff, SRTT + 4 RTTVAR within [MIN, MAX]. Also called
-- on ack progress: a path that delivers again ends any backoff, also when
-- Karn's rule gave no sample (as the reference and Linux do).
function RttEstimator:reset()
  if self.srtt == nil then
    self.rto = RttEstimator.INITIAL
  else
    self.rto = clamp(self.srtt + math.max(4 * self.rttvar, 0.001), RttEstimator.MIN, RttEstimator.MAX)
  end
end

-- RFC 6298 (5.5): double the timeout after an expiry, up to MAX.
function RttEstimator:back_off()
  self.rto = math.min(self.rto * 2, RttEstimator.MAX)
end

-- Sender ------------------------------------------------------------------

local Sender = {}
Sender.__index = Sender

Sender.DUP_THRESHOLD = 3 -- RUDP-42: fast retransmit on the 3rd duplicate ack
Sender.GIVE_UP = 60      -- RUDP-44: seconds without ack progress before giving up

-- `udp` is a LuaSocket UDP socket connected to the receiver (setpeername).
-- Options: first_seqno, sack (boolean), give_up (seconds), log (a function
-- taking a line of debug output, or nil), clock (seconds; socket.gettime).
function Sender.new(udp, input, options)
  local clock = options.clock or socket.gettime
  local first = options.first_seqno
  return setmetatable({
    udp = udp,
    packets = Packetizer.new(input, first),
    first = first,
    cum = first,          -- the highest cumulative ack (the start seqno before any)
    next_seqno = first,   -- the seqno of the next new packet
    sack = options.sack or false,
    give_up = options.give_up or Sender.GIVE_UP,
    log = options.log,
    clock = clock,
    rtt = RttEstimator.new(),
    window = {},          -- slots of seqnos cum .. next_seqno - 1 (RUDP-40)
    end_sent = false,
    done = false,         -- end is acked
    dupacks = 0,
    sack_evidence = false, -- the last ack was a sack (a plain-ack receiver sends none)
    heard = false,        -- an ack arrived since the last timeout
    timer = nil,          -- when the retransmission timer fires, or nil when off
    check_at = nil,       -- when a suspected loss becomes overdue, or nil
    last_progress = clock(),
    last_error = nil,
  }, Sender)
end

-- Debug output (-d). `message` may be a function, so that the line is only
-- built when it is wanted.
function Sender:debug(message)
  if self.log then
    self.log(type(message) == "function" and message() or message)
  end
end

-- Sends everything and returns true once end is acked (RUDP-45); returns
-- nil and a message after give_up seconds without progress of the
-- cumulative ack (RUDP-44).
function Sender:run()
  self.udp:settimeout(0)
  while not self.done do
    while self:may_send() do
      self:send_new()
    end
    local wake = self.timer
    if self.check_at and (wake == nil or self.check_at < wake) then
      wake = self.check_at
    end
    -- Both timers are off only when nothing is in flight, which run() never
    -- waits in; a second is a harmless bound all the same.
    local wait = wake and math.max(wake - self.clock(), 0) or 1
    local readable = socket.select({ self.udp }, nil, wait)
    if readable[self.udp] then
      self:receive_acks()
    end
    local now = self.clock()
    if not self.done and self.timer and now >= self.timer then
      local ok, err = self:on_timeout(now)
      if not ok then
        return nil, err
      end
    end
    if not self.done and self.check_at and now >= self.check_at then
      self:detect_losses(now)
    end
  end
  return true
end

-- RUDP-40: a new packet only while fewer than WINDOW are in flight, so every
-- seqno sent is below cum + WINDOW. And nothing after start until start is
-- acked: a receiver drops whatever arrives before start (RUDP-11), so a lost
-- start would take the rest of the window with it.
function Sender:may_send()
  return not self.end_sent and #self.window < WINDOW
    and (self.next_seqno == self.first or self.cum ~= self.first)
end

function Sender:send_new()
  local seqno, datagram, last = self.packets:next_packet()
  self.end_sent = last
  self.next_seqno = seqno + 1
  local slot = { seqno = seqno, datagram = datagram, sent_at = nil, sends = 0, sacked = false }
  self.window[#self.window + 1] = slot
  self:transmit(slot, "new")
end

function Sender:transmit(slot, why)
  self:debug(function()
    return string.format("send %s (%s, %d bytes, rto %d ms)", rudp.seqno_text(slot.seqno), why,
      #slot.datagram, math.floor(self.rtt.rto * 1000 + 0.5))
  end)
  local sent, err = self.udp:send(slot.datagram)
  if not sent then -- lost like any datagram: the timer retries
    self.last_error = err
    self:debug("send failed: " .. err)
  end
  slot.sends = slot.sends + 1
  slot.sent_at = self.clock()
  if self.timer == nil then -- RFC 6298 (5.1): start the timer if it is off
    self.timer = slot.sent_at + self.rtt.rto
  end
end

function Sender:retransmit(slot, why)
  self:transmit(slot, why)
  if slot == self.window[1] then -- the repaired head gets a full timeout of its own
    self.timer = slot.sent_at + self.rtt.rto
  end
end

-- Reads every datagram waiting on the socket.
function Sender:receive_acks()
  while not self.done do
    local datagram, err = self.udp:receive(2048)
    if not datagram then
      if err ~= "timeout" then -- "connection refused": no receiver (yet)
        self.last_error = err
        self:debug("receive failed: " .. err)
      end
      return
    end
    local ack, class, detail = rudp.parse(datagram)
    if not ack then -- RUDP-6: a corrupted ack is dropped, never acted on
      self:debug(function() return "dropped ack: " .. class .. ": " .. detail end)
    elseif not rudp.is_ack(ack) then
      self:debug("dropped a " .. ack.type .. " packet")
    else
      self:on_ack(ack)
    end
  end
end

-- An ack or sack carries the next seqno the receiver expects.
function Sender:on_ack(ack)
  self.heard = true
  local n = ack.seqno
  if before(n, self.cum) or before(self.next_seqno, n) then -- stale (reordered) or bogus
    self:debug(function() return "ignored ack " .. rudp.seqno_text(n) end)
    return
  end
  if n ~= self.cum then
    self:advance(n)
    if self.done then
      return
    end
  elseif #self.window > 0 then
    self.dupacks = self.dupacks + 1
  end
  -- With -k, sacks show which packets after a hole arrived (RUDP-32). A
  -- receiver without SACK answers with plain acks: then judge by those.
  self.sack_evidence = self.sack and ack.type == "sack"
  if self.sack_evidence then
    for _, seqno in ipairs(ack.sacks) do
      local slot = self:slot_for(seqno)
      if slot then
        slot.sacked = true
      end
    end
  end
  self:detect_losses(self.clock())
end

-- The window's slot for `seqno`, or nil.
function Sender:slot_for(seqno)
  if before(seqno, self.cum) then
    return nil
  end
  local offset = seqno - self.cum
  return before(offset, WINDOW) and self.window[offset + 1] or nil
end

-- The cumulative ack moved from cum to `n`: those packets arrived and are
-- forgotten, so they are never sent again (RUDP-43).
function Sender:advance(n)
  local now = self.clock()
  local acked = n - self.cum
  -- Karn's rule: only packets sent once give an unambiguous RTT. The oldest
  -- one newly acked errs on the long side, the safe side for a timeout.
  local oldest, all_once = self.window[1], true
  for i = 1, acked do
    all_once = all_once and self.window[i].sends == 1
  end
  for _ = 1, acked do
    table.remove(self.window, 1) -- at most WINDOW slots: cheap
  end
  self.cum = n
  self.done = self.end_sent and n == self.next_seqno -- RUDP-45: end is acked
  if all_once then
    self.rtt:sample(now - oldest.sent_at)
  else
    self.rtt:reset()
  end
  self:debug(function()
    return string.format("ack %s, rto %d ms", rudp.seqno_text(n), math.floor(self.rtt.rto * 1000 + 0.5))
  end)
  self.dupacks = 0
  self.last_progress = now
  self.timer = (#self.window > 0) and now + self.rtt.rto or nil -- RFC 6298 (5.2, 5.3)
end

-- When a packet with evidence against it counts as lost: a round trip and a
-- quarter (at least 2 ms, for reordering) after its first send; a repair 2
-- round trips after it. nil before the first RTT sample, and once the probe
-- went out.
function Sender:lost_at(slot)
  local srtt = self.rtt.srtt
  if srtt == nil or slot.sends > 2 then
    return nil
  end
  if slot.sends == 1 then
    return slot.sent_at + srtt + math.max(srtt / 4, 0.002)
  end
  return slot.sent_at + math.max(2 * srtt, 0.01)
end

-- The packets that may be lost, each with its evidence: with sacks every
-- packet not sacked, with the number sacked above it; else the oldest packet,
-- with the duplicate acks. Returns two parallel lists.
function Sender:suspects()
  if not self.sack_evidence then
    return { self.window[1] }, { self.dupacks }
  end
  local slots, evidence, above = {}, {}, 0
  for i = #self.window, 1, -1 do
    local slot = self.window[i]
    if slot.sacked then
      above = above + 1
    else
      slots[#slots + 1], evidence[#evidence + 1] = slot, above
    end
  end
  return slots, evidence
end

-- Resends the packets the acks show lost, without waiting for the timer, and
-- sets check_at for those that will count as lost if no ack comes first. A
-- packet is lost when packets sent after it have arrived (the evidence:
-- duplicate acks, or packets sacked above it), and
-- - it was sent once and 3 packets sent after it arrived: the 3rd duplicate
--   ack (RUDP-42), or 3 sacked above it (RFC 6675);
-- - or it has been out for more than a round trip (RACK, RFC 8985). With a
--   window of 5, a lost packet often has fewer than 3 followers, and
--   duplicate acks get lost too; this repairs it in about one RTT.
-- A repair that goes unanswered is probed once more after 2 SRTT (a tail loss
-- probe); after that only the timer resends it. Without SACK only the oldest
-- packet can be judged; with SACK every hole (RUDP-32).
function Sender:detect_losses(now)
  self.check_at = nil
  local slots, evidence = self:suspects()
  for i, slot in ipairs(slots) do
    if evidence[i] > 0 then
      local due = self:lost_at(slot)
      if (slot.sends == 1 and evidence[i] >= Sender.DUP_THRESHOLD) or (due and now >= due) then
        self:retransmit(slot, slot.sends == 1 and "lost" or "probe")
        due = self:lost_at(slot)
      end
      if due and (self.check_at == nil or due < self.check_at) then
        self.check_at = due
      end
    end
  end
end

-- The retransmission timer expired (RUDP-41): the oldest packet has gone
-- unacked for a whole RTO. Returns true, or nil and a message when it is
-- time to give up (RUDP-44).
function Sender:on_timeout(now)
  if now - self.last_progress >= self.give_up then
    local detail = self.last_error and (" (last error: " .. self.last_error .. ")") or ""
    if self.cum ~= self.first then
      return nil, string.format("no ack progress for %g s%s", self.give_up, detail)
    end
    return nil, string.format("start was never acknowledged in %g s%s: is a receiver listening there?",
      self.give_up, detail)
  end
  -- RFC 6298 (5.5), but back off only while the path is silent: if acks came
  -- since the last expiry, the losses are random, and doubling would only
  -- stretch every later wait.
  if self.heard then
    self.rtt:reset()
  else
    self.rtt:back_off()
  end
  self.heard = false
  self.dupacks = 0
  -- Nothing is known to have arrived for a whole RTO: resend every packet not
  -- known to be held (RUDP-32), as TCP does after a timeout. A lone packet
  -- goes twice: it needs itself and one ack to get through.
  local resend = {}
  for _, slot in ipairs(self.window) do
    if not slot.sacked then
      resend[#resend + 1] = slot
    end
  end
  if #resend == 1 then
    resend[2] = resend[1]
  end
  for _, slot in ipairs(resend) do
    self:transmit(slot, "timeout")
  end
  self.timer = self.clock() + self.rtt.rto -- RFC 6298 (5.6)
  return true
end

return { Sender = Sender, Packetizer = Packetizer, RttEstimator = RttEstimator }
