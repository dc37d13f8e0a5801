-- Hello Internet over TCP (spec/hello.md): what the client and the server
-- share. We send a message as one UTF-8 line ending in "\n" (HELLO-1), and
-- receive leniently (HELLO-2): a message also ends when the peer closes its
-- side, or when it has sent something and then stays quiet for a second,
-- because some programs never send the newline.
local socket = require("socket")

local hello = {}

hello.LANGUAGE = "Lua"
hello.IDLE_GAP = 1.0          -- HELLO-2: this long a pause after some bytes ends a message
hello.TIMEOUT = 10.0          -- the longest wait for a message (and a client's whole run)
hello.MAX_MESSAGE = 64 * 1024 -- longer messages are cut here
local BLANK = "[%s\0]"        -- HELLO-15: whitespace, and the NUL padding of C programs

-- Seconds, for deadlines. socket.gettime is the wall clock (LuaSocket has no
-- monotonic one); a clock step during a run only stretches or cuts one wait.
hello.clock = socket.gettime

-- The first line of `data`, without its "\n", at most MAX_MESSAGE bytes.
local function first_line(data)
  return data:match("^[^\n]*"):sub(1, hello.MAX_MESSAGE)
end

-- Reads one message leniently (HELLO-2): up to "\n", the peer's close or
-- reset, or an idle gap of IDLE_GAP after some bytes; never just what one
-- read returned. `conn` is a LuaSocket TCP client; `wait_readable(conn,
-- seconds)` returns true once it can be read, false after `seconds` (the
-- client blocks in socket.select, the server yields to its event loop).
-- Returns the bytes before the "\n"; or nil and "closed" if the peer closed
-- without sending anything, nil and "timeout" if nothing came by `deadline`
-- (a clock value), which also ends a message that is still trickling in.
function hello.read_message(conn, deadline, wait_readable)
  conn:settimeout(0) -- receive returns what is there; waiting is wait_readable's job
  local chunks, size = {}, 0
  while size < hello.MAX_MESSAGE do
    local wait = deadline - hello.clock()
    if size > 0 then
      wait = math.min(wait, hello.IDLE_GAP)
    end
    if wait <= 0 or not wait_readable(conn, wait) then
      if size == 0 then
        return nil, "timeout"
      end
      break -- the idle gap: a message without "\n"
    end
    -- With timeout 0, receive(n) gives n bytes, or fewer as `partial` with
    -- the error "timeout" (nothing more yet) or "closed" (end of input).
    local data, err, partial = conn:receive(4096)
    data = data or partial
    chunks[#chunks + 1] = data
    size = size + #data
    if data:find("\n", 1, true) then
      break
    end
    if err and err ~= "timeout" then -- closed, or reset: what came before is intact
      if size == 0 then
        return nil, "closed"
      end
      break
    end
  end
  return first_line(table.concat(chunks))
end

-- The text of a message without surrounding whitespace such as "\r\n" or NUL
-- bytes (HELLO-15).
function hello.text(message)
  return (message:gsub("^" .. BLANK .. "+", ""):gsub(BLANK .. "+$", ""))
end

-- HELLO-20: the challenge reply to a client's message, "Goodbye X from Lua",
-- where X is what follows "Hello in" (any letter case), or the whole message
-- if it does not start so; runs of whitespace count as one space.
function hello.challenge_reply(message)
  local words = {}
  for word in message:gmatch("[^%s\0]+") do
    words[#words + 1] = word
  end
  if #words >= 3 and words[1]:lower() == "hello" and words[2]:lower() == "in" then
    words = table.move(words, 3, #words, 1, {})
  end
  table.insert(words, 1, "Goodbye")
  words[#words + 1] = "from"
  words[#words + 1] = hello.LANGUAGE
  return table.concat(words, " ") .. "\n"
end

-- The IPv4 form of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), which a
-- dual-stack socket reports for IPv4 peers (HELLO-21); others as they are.
function hello.plain_ip(ip)
  return ip:match("^::[fF][fF][fF][fF]:(%d+%.%d+%.%d+%.%d+)$") or ip
end

return hello
