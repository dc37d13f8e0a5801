-- The RUDP datagram codec shared by the sender and the receiver (spec/rudp.md).
--
-- Every datagram is <type>|<seqno>|<data>|<checksum> (RUDP-1); acks are
-- ack|<seqno>|<checksum> (RUDP-6) and selective acks
-- sack|<cum>;<s1>,<s2>,...|<checksum> (RUDP-30).
--
-- Lua strings are byte strings, so data may hold "|", NUL or any byte >= 0x80
-- and string.find / string.sub count bytes. Lua patterns handle every byte,
-- NUL included; "|" is searched for with plain finds.
--
-- Seqnos go up to 2^64 - 1 (RUDP-3), one more than a Lua integer holds as a
-- positive number. Lua 5.4 integers are 64-bit two's complement and wrap
-- around, so a seqno is kept as the integer with the same 64 bits: 2^64 - 1
-- is -1. Addition and subtraction then work as unsigned arithmetic does;
-- comparisons need math.ult, and printing needs rudp.seqno_text.
local rudp = {}

rudp.MAX_DATAGRAM = 1472   -- RUDP-2: a 1500-byte Ethernet MTU less 20 (IPv4) and 8 (UDP)
rudp.WINDOW = 5            -- RUDP-12 and RUDP-40: the receive window, and packets in flight
rudp.CHECKSUM_DIGITS = 10  -- the longest checksum: 2^32 - 1 has 10 digits
local MAX_SEQNO_TEXT = "18446744073709551615" -- 2^64 - 1 (RUDP-3)

local SENDER_TYPES = { start = true, data = true, ["end"] = true } -- RUDP-1
local ACK_TYPES = { ack = true, sack = true }                       -- RUDP-6, RUDP-30

-- CRC-32 (IEEE 802.3, zlib's): reflected polynomial 0xEDB88320, initial value
-- and final XOR 0xFFFFFFFF. One table of 256 entries, built once.
local CRC_TABLE = {}
for n = 0, 255 do
  local c = n
  for _ = 1, 8 do
    c = (c & 1 == 1) and (0xEDB88320 ~ (c >> 1)) or (c >> 1)
  end
  CRC_TABLE[n] = c
end

-- RUDP-4: the CRC-32 of every byte of `head`, as a non-negative integer.
-- string.byte hands out bytes in runs of 64: one call per run, and a numeric
-- for over them, is about twice as fast as one call per byte or ipairs.
local byte = string.byte

function rudp.crc32(head)
  local crc = 0xFFFFFFFF
  for i = 1, #head, 64 do
    local bytes = { byte(head, i, i + 63) }
    for j = 1, #bytes do
      crc = CRC_TABLE[(crc ~ bytes[j]) & 0xFF] ~ (crc >> 8)
    end
  end
  return crc ~ 0xFFFFFFFF
end

-- The checksum field for `head` (everything up to and including the last "|"):
-- the unsigned CRC-32 in canonical decimal. Lua's integers are 64-bit, so
-- the value is never negative, unlike in languages with a signed int32.
function rudp.checksum(head)
  return string.format("%d", rudp.crc32(head))
end

-- The decimal text of a seqno, also above 2^63 (stored as a negative integer):
-- divide the unsigned value by 10 with a logical shift (>> in Lua 5.4 shifts
-- in zeros), then the rest is an ordinary non-negative number.
function rudp.seqno_text(n)
  if n >= 0 then
    return string.format("%d", n)
  end
  local tens = (n >> 1) // 5
  return string.format("%d%d", tens, n - tens * 10)
end

-- RUDP-3: 1 to 20 ASCII digits (no sign, no space) with a value below 2^64;
-- leading zeros are accepted. Returns the seqno, or nil. tonumber() would
-- also take " 7", "0x1f" and "1e3", and turn large values into floats.
function rudp.parse_seqno(text)
  if #text < 1 or #text > 20 or text:find("[^0-9]") then
    return nil
  end
  local significant = text:match("^0*(.*)$")
  -- Digit strings of the same length compare as numbers do.
  if #significant == 20 and significant > MAX_SEQNO_TEXT then
    return nil
  end
  local n = 0
  for i = 1, #text do
    n = n * 10 + (text:byte(i) - 48) -- wraps around above 2^63, as intended
  end
  return n
end

-- `a < b` for seqnos, as unsigned 64-bit numbers.
rudp.before = math.ult

-- Seals `head`, which ends in "|", with its checksum.
local function seal(head)
  return head .. rudp.checksum(head)
end

-- A start, data or end datagram (RUDP-1).
function rudp.encode(kind, seqno, data)
  return seal(kind .. "|" .. rudp.seqno_text(seqno) .. "|" .. (data or "") .. "|")
end

-- ack|<seqno>| or, when `sacks` is given (even empty), sack|<seqno>;<s1>,...|,
-- with the checksum (RUDP-6, RUDP-30).
function rudp.encode_ack(seqno, sacks)
  if sacks == nil then
    return seal("ack|" .. rudp.seqno_text(seqno) .. "|")
  end
  local list = {}
  for i, s in ipairs(sacks) do
    list[i] = rudp.seqno_text(s)
  end
  return seal("sack|" .. rudp.seqno_text(seqno) .. ";" .. table.concat(list, ",") .. "|")
end

-- The most data a `kind` datagram numbered `seqno` can carry and still fit in
-- MAX_DATAGRAM whatever its checksum (RUDP-2, RUDP-46).
function rudp.max_payload(kind, seqno)
  return rudp.MAX_DATAGRAM - (#kind + #rudp.seqno_text(seqno) + 3) - rudp.CHECKSUM_DIGITS
end

-- Parsing errors carry the class of spec/vectors/README.md: too_long,
-- malformed, checksum, type, seqno or sack.
local function invalid(class, detail)
  return nil, class, detail
end

local function printable(text)
  return string.format("%q", text:sub(1, 24))
end

-- "<cum>;<s1>,<s2>,..." or just "<cum>" (RUDP-30).
local function parse_sack(fields)
  local cum_text, list = fields, nil
  local semicolon = fields:find(";", 1, true)
  if semicolon then
    cum_text, list = fields:sub(1, semicolon - 1), fields:sub(semicolon + 1)
  end
  local cum = rudp.parse_seqno(cum_text)
  if not cum then
    return invalid("seqno", "not a decimal seqno: " .. printable(cum_text))
  end
  local sacks = {}
  if list and list ~= "" then
    -- Appending "," makes every element end in one, so "6,,8" and "6," show
    -- up as empty elements.
    for item in (list .. ","):gmatch("([^,]*),") do
      local s = rudp.parse_seqno(item)
      if not s then
        return invalid("sack", "bad seqno in the sack list: " .. printable(item))
      end
      sacks[#sacks + 1] = s
    end
  end
  return { type = "sack", seqno = cum, data = "", sacks = sacks }
end

-- Decodes one datagram. Returns a packet table {type, seqno, data, sacks},
-- or nil, the error class and a detail.
--
-- RUDP-5: the type runs to the first "|", the seqno to the second, the
-- checksum follows the LAST "|", and the data is everything in between, so
-- data may itself contain "|". The checks come in the order of
-- spec/vectors/README.md, so errors are classed as the vectors expect.
function rudp.parse(datagram)
  if #datagram > rudp.MAX_DATAGRAM then
    return invalid("too_long", #datagram .. " bytes, over " .. rudp.MAX_DATAGRAM)
  end
  local first = datagram:find("|", 1, true)
  if not first then
    return invalid("malformed", "no '|'")
  end
  local last = datagram:match(".*()|") -- "()" captures the position of the last "|"
  local sum = datagram:sub(last + 1)
  if not sum:find("^[0-9]+$") then
    return invalid("malformed", "checksum " .. printable(sum) .. " is not decimal")
  end
  if first == last then
    return invalid("malformed", "only one '|'")
  end
  local kind = datagram:sub(1, first - 1)
  local fields = datagram:sub(first + 1, last - 1) -- start/data/end: "<seqno>|<data>"
  local second = fields:find("|", 1, true)
  if SENDER_TYPES[kind] and not second then
    return invalid("malformed", "no data field")
  end
  if ACK_TYPES[kind] and second then
    return invalid("malformed", "an ack has no data field")
  end
  -- Compared as text: the course's receiver compares strings, so "0123" is
  -- not 123 (RUDP-4).
  if sum ~= rudp.checksum(datagram:sub(1, last)) then
    return invalid("checksum", "checksum mismatch")
  end

  if kind == "ack" then
    local seqno = rudp.parse_seqno(fields)
    if not seqno then
      return invalid("seqno", "not a decimal seqno: " .. printable(fields))
    end
    return { type = "ack", seqno = seqno, data = "", sacks = {} }
  elseif kind == "sack" then
    return parse_sack(fields)
  elseif SENDER_TYPES[kind] then
    local seqno_text = fields:sub(1, second - 1)
    local seqno = rudp.parse_seqno(seqno_text)
    if not seqno then
      return invalid("seqno", "not a decimal seqno: " .. printable(seqno_text))
    end
    return { type = kind, seqno = seqno, data = fields:sub(second + 1), sacks = {} }
  end
  return invalid("type", "unknown packet type " .. printable(kind))
end

-- Is `packet` an ack or a sack?
function rudp.is_ack(packet)
  return ACK_TYPES[packet.type] == true
end

-- The IPv4 form of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), which a
-- dual-stack socket reports for IPv4 peers; other addresses as they are.
function rudp.plain_ip(ip)
  return ip:match("^::[fF][fF][fF][fF]:(%d+%.%d+%.%d+%.%d+)$") or ip
end

return rudp
