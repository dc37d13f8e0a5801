-- Hello: the challenge replies of HELLO-20, trimming (HELLO-15), and the
-- message reader (HELLO-2) on a real TCP connection over loopback.
local t = require("support.testing")
local socket = require("socket")
local hello = require("hello")

-- A connected pair of TCP sockets over loopback: the one we write to, and
-- the one we read from.
local function pair()
  local listener = assert(socket.bind("127.0.0.1", 0))
  local _, port = listener:getsockname()
  local writer = assert(socket.connect("127.0.0.1", port))
  local reader = assert(listener:accept())
  listener:close()
  return writer, reader
end

local function wait_readable(conn, seconds)
  return socket.select({ conn }, nil, seconds)[conn] ~= nil
end

return {
  { "challenge replies (HELLO-20)", function()
    t.eq("Goodbye Go from Lua\n", hello.challenge_reply("Hello in Go"))
    t.eq("Goodbye Objective C from Lua\n", hello.challenge_reply("Hello in Objective  C"))
    t.eq("Goodbye rust from Lua\n", hello.challenge_reply("hello IN rust"))
    t.eq("Goodbye Hi from Ruby from Lua\n", hello.challenge_reply("Hi from Ruby"))
    t.eq("Goodbye Hello in from Lua\n", hello.challenge_reply("Hello in"))
    t.eq("Goodbye C++ from Lua\n", hello.challenge_reply("\0 Hello\tin C++\r\0\0"))
    t.eq("Goodbye from Lua\n", hello.challenge_reply(" \0\r"))
  end },

  { "trimming whitespace and NUL bytes (HELLO-15)", function()
    t.eq("Hello in Go", hello.text("Hello in Go\r"))
    t.eq("Hello in Go", hello.text("\0 Hello in Go \0\0"))
    t.eq("", hello.text(" \t\0"))
  end },

  { "IPv4-mapped peers print in IPv4 form (HELLO-21)", function()
    t.eq("172.18.0.3", hello.plain_ip("::ffff:172.18.0.3"))
    t.eq("::1", hello.plain_ip("::1"))
  end },

  { "a message ends at the newline; what follows is not part of it", function()
    local writer, reader = pair()
    writer:send("Hello in Go\nmore")
    t.eq("Hello in Go", hello.read_message(reader, hello.clock() + 5, wait_readable))
    writer:close(); reader:close()
  end },

  { "a message without newline ends at the peer's close", function()
    local writer, reader = pair()
    writer:send("Hello in C")
    writer:shutdown("send")
    t.eq("Hello in C", hello.read_message(reader, hello.clock() + 5, wait_readable))
    writer:close(); reader:close()
  end },

  { "a message without newline ends after the idle gap, not sooner", function()
    local writer, reader = pair()
    writer:send("Hel")
    local started = hello.clock()
    t.eq("Hel", hello.read_message(reader, started + 5, wait_readable))
    t.ok(hello.clock() - started >= hello.IDLE_GAP, "ended before the idle gap")
    writer:close(); reader:close()
  end },

  { "nothing before the close: no message", function()
    local writer, reader = pair()
    writer:close()
    local message, why = hello.read_message(reader, hello.clock() + 5, wait_readable)
    t.eq(nil, message)
    t.eq("closed", why)
    reader:close()
  end },

  { "nothing before the deadline: timeout", function()
    local writer, reader = pair()
    local message, why = hello.read_message(reader, hello.clock() + 0.2, wait_readable)
    t.eq(nil, message)
    t.eq("timeout", why)
    writer:close(); reader:close()
  end },
}
