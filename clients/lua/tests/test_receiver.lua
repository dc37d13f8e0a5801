-- What the spec's scripts leave open: the sack list's order, the file being
-- complete when the ack of end is returned, IPv6 names, the top of the seqno
-- range (RUDP-3, RUDP-14, RUDP-16, RUDP-31).
local t = require("support.testing")
local rudp = require("rudp")
local Receiver = require("rudp.receiver").Receiver

local function receiver(sack)
  local dir = t.temp_dir()
  return Receiver.new({ dir = dir, sack = sack }), dir
end

return {
  { "sack lists ascend whatever the arrival order (RUDP-31)", function()
    local r, dir = receiver(true)
    t.eq(rudp.encode_ack(11, {}), r:handle(rudp.encode("start", 10, "a"), "10.0.0.1", 5000, 0))
    t.eq(rudp.encode_ack(11, { 15 }), r:handle(rudp.encode("data", 15, "f"), "10.0.0.1", 5000, 0))
    t.eq(rudp.encode_ack(11, { 13, 15 }), r:handle(rudp.encode("data", 13, "d"), "10.0.0.1", 5000, 0))
    t.eq(rudp.encode_ack(11, { 12, 13, 15 }), r:handle(rudp.encode("data", 12, "c"), "10.0.0.1", 5000, 0))
    t.eq(rudp.encode_ack(11, { 12, 13, 15 }), r:handle(rudp.encode("data", 16, "g"), "10.0.0.1", 5000, 0),
      "16 is outside the window: not held, not listed")
    t.eq(rudp.encode_ack(14, { 15 }), r:handle(rudp.encode("data", 11, "b"), "10.0.0.1", 5000, 0))
    r:close()
  end },

  { "the file is complete and renamed when end's ack is returned (RUDP-14)", function()
    local r, dir = receiver(false)
    r:handle(rudp.encode("start", 0, "abc"), "10.0.0.1", 5000, 0)
    t.same_list({ "10.0.0.1.5000.partial" }, t.files_in(dir, { "10.0.0.1.5000", "10.0.0.1.5000.partial" }))
    local ack = r:handle(rudp.encode("end", 1, "|\0\255"), "10.0.0.1", 5000, 0)
    t.eq(rudp.encode_ack(2), ack)
    t.same_list({ "10.0.0.1.5000" }, t.files_in(dir, { "10.0.0.1.5000", "10.0.0.1.5000.partial" }))
    t.eq("abc|\0\255", t.read_file(dir .. "/10.0.0.1.5000"))
  end },

  { "file names come from the source address only (RUDP-16)", function()
    t.eq("2001_db8__1.6000", Receiver.file_name("2001:db8::1", 6000))
    t.eq("172.18.0.3.40000", Receiver.file_name("::ffff:172.18.0.3", 40000))
    t.eq("10.0.0.1.5000", Receiver.file_name("10.0.0.1", 5000))
  end },

  { "a transfer ending at the top of the seqno range (RUDP-3)", function()
    local r, dir = receiver(true)
    local top = rudp.parse_seqno("18446744073709551612")
    t.eq("sack|18446744073709551613;|", r:handle(rudp.encode("start", top, "a"), "10.0.0.1", 5000, 0):match("^(.*|)"))
    -- 0 is not in the window 2^64-3 .. 2^64+1: the window does not wrap.
    t.eq("sack|18446744073709551613;|", r:handle(rudp.encode("data", 0, "x"), "10.0.0.1", 5000, 0):match("^(.*|)"))
    t.eq("sack|18446744073709551613;18446744073709551614|",
      r:handle(rudp.encode("end", top + 2, "c"), "10.0.0.1", 5000, 0):match("^(.*|)"))
    t.eq("sack|18446744073709551615;|", r:handle(rudp.encode("data", top + 1, "b"), "10.0.0.1", 5000, 0):match("^(.*|)"))
    t.eq("abc", t.read_file(dir .. "/10.0.0.1.5000"))
  end },

  { "acks from a sender's address are ignored (RUDP-6)", function()
    local r, dir = receiver(false)
    t.eq(nil, r:handle(rudp.encode_ack(1), "10.0.0.1", 5000, 0))
    t.same_list({}, t.files_in(dir, { "10.0.0.1.5000", "10.0.0.1.5000.partial" }))
  end },
}
