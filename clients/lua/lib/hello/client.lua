-- The Hello client: connects, sends "Hello in Lua", prints the reply
-- (spec/hello.md HELLO-5..HELLO-8).
local socket = require("socket")
local hello = require("hello")

local client = {}

client.HALF_CLOSE_DELAY = 3.0 -- HELLO-6: seconds to wait for a reply before half-closing

-- Blocks until `conn` can be read, for at most `seconds`.
local function wait_readable(conn, seconds)
  local readable = socket.select({ conn }, nil, seconds)
  return readable[conn] ~= nil
end

-- HELLO-5: resolves `host` (a name or an address) and tries each of its
-- addresses in turn. Returns a connected socket, or nil and a message.
local function connect(host, port, deadline)
  local addresses, err = socket.dns.getaddrinfo(host)
  if not addresses then
    return nil, string.format("could not resolve host %s: %s", host, err)
  end
  local errors = {}
  for _, address in ipairs(addresses) do
    local conn = address.family == "inet6" and socket.tcp6() or socket.tcp4()
    conn:settimeout(math.max(deadline - hello.clock(), 0.1))
    local ok, why = conn:connect(address.addr, port)
    if ok then
      return conn
    end
    conn:close()
    errors[#errors + 1] = string.format("%s (%s)", why, address.addr) -- refused, unreachable, timeout...
  end
  return nil, string.format("could not connect to %s port %d: %s", host, port, table.concat(errors, ", "))
end

-- Runs one exchange with host:port. Returns the server's reply, or nil and
-- a message saying what went wrong (HELLO-8).
function client.exchange(host, port)
  local deadline = hello.clock() + hello.TIMEOUT
  local conn, err = connect(host, port, deadline)
  if not conn then
    return nil, err
  end
  local sent
  sent, err = conn:send("Hello in " .. hello.LANGUAGE .. "\n") -- HELLO-1, HELLO-3: one line, one write
  if not sent then
    conn:close()
    return nil, string.format("sending to %s port %d failed: %s", host, port, err)
  end
  -- HELLO-6: some servers answer only at the end of input. Give the others
  -- HALF_CLOSE_DELAY with the connection fully open, then half-close: we can
  -- still read, and those servers get their end of input.
  if not wait_readable(conn, client.HALF_CLOSE_DELAY) then
    conn:shutdown("send")
  end
  local reply, why = hello.read_message(conn, deadline, wait_readable)
  conn:close()
  if reply then
    return reply
  elseif why == "closed" then
    return nil, string.format("%s port %d closed the connection without replying", host, port)
  end
  return nil, string.format("no reply from %s port %d within %d s", host, port, hello.TIMEOUT)
end

-- The client's whole run; returns the exit status.
function client.run(host, port)
  local reply, err = client.exchange(host, port)
  if not reply then
    io.stderr:write("hello client: ", err, "\n") -- HELLO-8
    return 1
  end
  io.stdout:write(hello.text(reply), "\n") -- HELLO-7: the reply alone on its line
  io.stdout:flush()
  return 0
end

return client
