-- The datagram codec: checksums, seqnos, binary data (spec/rudp.md RUDP-1..RUDP-8).
local t = require("support.testing")
local rudp = require("rudp")

return {
  { "CRC-32 check value of 123456789 (RUDP-4)", function()
    t.eq(3421780262, rudp.crc32("123456789"))
    t.eq(0, rudp.crc32(""))
  end },

  { "worked example: start|0|hello| (RUDP-4)", function()
    t.eq("1374653333", rudp.checksum("start|0|hello|"))
    t.eq("start|0|hello|1374653333", rudp.encode("start", 0, "hello"))
  end },

  { "a checksum above 2^31 prints unsigned (RUDP-4)", function()
    t.eq("ack|1|2195368786", rudp.encode_ack(1))
  end },

  { "data containing pipes round-trips (RUDP-5)", function()
    t.eq("data|7|a|b|3661478912", rudp.encode("data", 7, "a|b"))
    local packet = assert(rudp.parse("data|7|a|b|3661478912"))
    t.eq("data", packet.type)
    t.eq(7, packet.seqno)
    t.eq("a|b", packet.data)
  end },

  { "every byte value round-trips (RUDP-5)", function()
    local bytes = {}
    for i = 0, 255 do
      bytes[#bytes + 1] = string.char(i)
    end
    local data = table.concat(bytes) .. "|end|1|x|123"
    local packet = assert(rudp.parse(rudp.encode("data", 42, data)))
    t.eq(data, packet.data)
    t.eq(42, packet.seqno)
  end },

  { "a full datagram is exactly 1472 bytes at most (RUDP-2, RUDP-46)", function()
    for _, seqno in ipairs({ 0, 9, 10, 12345, -1 }) do
      for _, kind in ipairs({ "start", "data", "end" }) do
        local datagram = rudp.encode(kind, seqno, string.rep("\255", rudp.max_payload(kind, seqno)))
        t.ok(#datagram <= 1472, kind .. " " .. rudp.seqno_text(seqno) .. ": " .. #datagram .. " bytes")
        t.ok(#datagram >= 1462, "fills the datagram: " .. #datagram)
        t.ok(rudp.parse(datagram), "parses")
      end
    end
    t.eq(nil, (rudp.parse(string.rep("x", 1473))))
    t.eq("too_long", select(2, rudp.parse(string.rep("x", 1473))))
  end },

  { "seqnos up to 2^64 - 1 (RUDP-3)", function()
    t.eq("18446744073709551615", rudp.seqno_text(rudp.parse_seqno("18446744073709551615")))
    t.eq(-1, rudp.parse_seqno("18446744073709551615"))
    t.eq("9223372036854775808", rudp.seqno_text(rudp.parse_seqno("9223372036854775808")))
    t.eq("9223372036854775807", rudp.seqno_text(math.maxinteger))
    t.eq("10000000000000000000", rudp.seqno_text(rudp.parse_seqno("10000000000000000000")))
    t.eq(7, rudp.parse_seqno("007"))
    t.eq(0, rudp.parse_seqno("00000000000000000000"))
    t.eq(nil, rudp.parse_seqno("18446744073709551616"))
    t.eq(nil, rudp.parse_seqno("99999999999999999999"))
    t.eq(nil, rudp.parse_seqno("000000000000000000001")) -- 21 digits
    for _, bad in ipairs({ "", "+7", "-1", " 7", "7 ", "0x1f", "1e3", "1.0" }) do
      t.eq(nil, rudp.parse_seqno(bad), bad)
    end
  end },

  { "seqnos compare unsigned", function()
    t.ok(rudp.before(math.maxinteger, math.mininteger), "2^63 - 1 < 2^63")
    t.ok(rudp.before(5, -1), "5 < 2^64 - 1")
    t.ok(not rudp.before(-1, 5), "not 2^64 - 1 < 5")
  end },

  { "sacks encode in the order given (RUDP-30)", function()
    t.eq("sack|3;5,6|2211952226", rudp.encode_ack(3, { 5, 6 }))
    local sack = assert(rudp.parse("sack|3;5,6|2211952226"))
    t.same_list({ 5, 6 }, sack.sacks)
    t.eq(3, sack.seqno)
    t.ok(rudp.is_ack(sack))
  end },

  { "IPv4-mapped addresses in IPv4 form", function()
    t.eq("172.18.0.3", rudp.plain_ip("::ffff:172.18.0.3"))
    t.eq("2001:db8::1", rudp.plain_ip("2001:db8::1"))
    t.eq("10.0.0.1", rudp.plain_ip("10.0.0.1"))
  end },
}
