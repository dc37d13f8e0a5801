-- The Hello server: answers every client, concurrently, forever
-- (spec/hello.md HELLO-10..HELLO-14).
--
-- HELLO-14: a coroutine per connection, so that a silent client blocks
-- nobody. A coroutine that has to wait for its socket yields to the event
-- loop below, which waits for every socket at once with socket.select and
-- resumes whichever coroutine can go on.
local socket = require("socket")
local hello = require("hello")

local Server = {}
Server.__index = Server

Server.LINGER = 2.0 -- HELLO-12: how long to wait for the client's close after the reply

-- Options: challenge (boolean), log (a function taking a line), or defaults.
function Server.new(options)
  options = options or {}
  return setmetatable({
    challenge = options.challenge or false,
    log = options.log or function(line) io.stderr:write("hello server: ", line, "\n") end,
    readers = {}, -- socket -> the coroutine waiting to read it
    writers = {}, -- socket -> the coroutine waiting to write it
    deadlines = {}, -- coroutine -> when its wait ends
  }, Server)
end

-- HELLO-10: a TCP socket listening on `port` on every address: IPv6 and IPv4
-- together where the host allows, else IPv4 only. Returns it, or nil and a
-- message.
function Server.listen(port)
  local listener = socket.tcp6()
  listener:setoption("ipv6-v6only", false)
  listener:setoption("reuseaddr", true)
  local ok, err = listener:bind("::", port)
  if not ok then -- no IPv6 in this kernel or container
    listener:close()
    listener = socket.tcp4()
    listener:setoption("reuseaddr", true)
    ok, err = listener:bind("0.0.0.0", port)
  end
  if ok then
    ok, err = listener:listen(128)
  end
  if not ok then
    listener:close()
    return nil, err
  end
  listener:settimeout(0) -- accept only when select says a client waits
  return listener
end

-- Called from inside a connection's coroutine: yields until `conn` can be
-- read (true) or `seconds` have passed (false).
function Server:wait_readable(conn, seconds)
  return coroutine.yield(self.readers, conn, hello.clock() + seconds)
end

function Server:wait_writable(conn, seconds)
  return coroutine.yield(self.writers, conn, hello.clock() + seconds)
end

-- Runs `co` until it waits again or ends, passing `...` in; records what it
-- waits for.
function Server:resume(co, ...)
  local ok, waits_in, conn, deadline = coroutine.resume(co, ...)
  if not ok then -- a bug in serve(): tell, and keep serving the others
    self.log("connection failed: " .. tostring(waits_in))
  elseif coroutine.status(co) == "suspended" then
    waits_in[conn] = co
    self.deadlines[co] = deadline
  end
end

-- Starts a coroutine for a new connection.
function Server:spawn(conn)
  self:resume(coroutine.create(function() self:serve(conn) end))
end

-- Serves until the process is stopped (HELLO-13: forever).
function Server:run(listener)
  local port = select(2, listener:getsockname())
  self.log("listening on TCP port " .. port) -- the real one, also for port 0
  while true do
    local wanted_read, wanted_write = { listener }, {}
    local wake = math.huge
    for conn in pairs(self.readers) do
      wanted_read[#wanted_read + 1] = conn
    end
    for conn in pairs(self.writers) do
      wanted_write[#wanted_write + 1] = conn
    end
    for _, deadline in pairs(self.deadlines) do
      wake = math.min(wake, deadline)
    end
    local wait = wake < math.huge and math.max(wake - hello.clock(), 0) or nil
    local readable, writable = socket.select(wanted_read, wanted_write, wait)

    if readable[listener] then
      self:accept_all(listener)
    end
    self:wake_ready(self.readers, readable)
    self:wake_ready(self.writers, writable)
    self:wake_expired(hello.clock())
  end
end

-- Resumes, with false, every coroutine whose wait is over.
function Server:wake_expired(now)
  for _, waiting in ipairs({ self.readers, self.writers }) do
    -- Collected first: a resumed coroutine may wait again at once, and a
    -- table must not gain keys while pairs() walks it.
    local expired = {}
    for conn, co in pairs(waiting) do
      if self.deadlines[co] <= now then
        expired[#expired + 1] = conn
      end
    end
    for _, conn in ipairs(expired) do
      self:wake(waiting, conn, false)
    end
  end
end

function Server:accept_all(listener)
  while true do
    local conn, err = listener:accept()
    if not conn then
      if err ~= "timeout" then -- e.g. out of file descriptors: try again later
        self.log("accept failed: " .. err)
      end
      return
    end
    self:spawn(conn)
  end
end

-- Resumes the coroutine waiting on `conn` in `waiting`, passing `ready`.
function Server:wake(waiting, conn, ready)
  local co = waiting[conn]
  waiting[conn] = nil
  self.deadlines[co] = nil
  self:resume(co, ready)
end

function Server:wake_ready(waiting, ready)
  for _, conn in ipairs(ready) do
    if waiting[conn] then
      self:wake(waiting, conn, true)
    end
  end
end

-- One connection, inside its own coroutine.
function Server:serve(conn)
  local ip = hello.plain_ip((conn:getpeername()) or "?")
  local message, why = hello.read_message(conn, hello.clock() + hello.TIMEOUT,
    function(c, seconds) return self:wait_readable(c, seconds) end)
  if not message then
    self.log(ip .. (why == "closed" and ": closed without a message" or ": no message within 10 s"))
    conn:close()
    return
  end
  local text = hello.text(message)
  -- HELLO-11: printed, and flushed, before the reply. HELLO-21: with
  -- --challenge, the client's address first, on its own line. One write, so
  -- that the lines of two clients never mix.
  io.stdout:write(self.challenge and (ip .. "\n" .. text .. "\n") or (text .. "\n"))
  io.stdout:flush()
  local reply = self.challenge and hello.challenge_reply(message) -- HELLO-20
    or ("Goodbye in " .. hello.LANGUAGE .. "\n")                  -- HELLO-4
  local ok, err = self:send_all(conn, reply)
  if ok then
    self:close_gracefully(conn)
  else
    self.log(ip .. ": reply failed: " .. err)
  end
  conn:close()
end

-- Sends all of `data`, waiting while the socket's buffer is full.
function Server:send_all(conn, data)
  local from = 1
  while true do
    local last, err, partial_last = conn:send(data, from)
    if last then
      return true
    elseif err ~= "timeout" then
      return nil, err
    end
    from = partial_last + 1
    if not self:wait_writable(conn, hello.TIMEOUT) then
      return nil, "the client reads nothing"
    end
  end
end

-- HELLO-12: half-close, then read until the client closes (at most LINGER).
-- Closing with unread input would make the kernel reset the connection, and
-- a reset can destroy the reply before the client has read it.
function Server:close_gracefully(conn)
  conn:shutdown("send")
  local deadline = hello.clock() + Server.LINGER
  while true do
    local left = deadline - hello.clock()
    if left <= 0 or not self:wait_readable(conn, left) then
      return
    end
    local _, err = conn:receive(4096)
    if err and err ~= "timeout" then -- the client closed: done
      return
    end
  end
end

return Server
