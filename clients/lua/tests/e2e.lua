-- End-to-end tests: the programs in bin/, started as interop.json starts
-- them, over loopback, through tests/lossy_relay.lua where the network
-- should be bad. Slower than the unit tests (about 30 s) and timing
-- dependent, so they are run by hand, not in docker build:
--   lua5.4 tests/e2e.lua        (from clients/lua)
package.path = "lib/?.lua;tests/?.lua;" .. package.path
local t = require("support.testing")
local socket = require("socket")

local LUA = "lua5.4"
local HERE = io.popen("pwd"):read("l")
local scratch = t.temp_dir()
local background = {} -- pids to stop at the end

-- Starts `command` in the background (in `dir`), returns its pid.
local function start(command, dir)
  local pipe = io.popen(string.format("cd '%s' && { %s & } && echo $!", dir or HERE, command))
  local pid = pipe:read("l")
  pipe:close()
  background[#background + 1] = pid
  socket.sleep(0.3) -- long enough to bind its port on a quiet machine
  return pid
end

-- Runs `command` to its end; returns its exit status and stdout, stderr.
local function run(command)
  local out, err = scratch .. "/stdout", scratch .. "/stderr"
  local _, _, status = os.execute(string.format("cd '%s' && %s >%s 2>%s", HERE, command, out, err))
  return status, t.read_file(out), t.read_file(err)
end

local function random_file(name, size)
  local path = scratch .. "/" .. name
  os.execute(string.format("head -c %d /dev/urandom > %s", size, path))
  return path
end

local next_port = 20000 + math.random(0, 20000)
local function port()
  next_port = next_port + 1
  return next_port
end

-- A transfer of `size` bytes through a relay with these impairments.
local function transfer(size, sack, loss, dup, corrupt, blackout)
  local input = random_file("in." .. size, size)
  local out = t.temp_dir()
  local flag = sack and " -k" or ""
  local receiver_port, relay_port = port(), port()
  start(string.format("%s %s/bin/rudp-receiver -p %d -t 10%s", LUA, HERE, receiver_port, flag), out)
  start(string.format("%s tests/lossy_relay.lua %d %d %g %g %g %d %s", LUA, relay_port, receiver_port,
    loss, dup, corrupt, math.random(1000), blackout or ""))
  local status, _, err = run(string.format("%s bin/rudp-sender -a localhost -p %d -f %s%s",
    LUA, relay_port, input, flag))
  t.eq(0, status, "sender exit status; stderr: " .. err)
  -- One complete file, named after the relay's address (the receiver's peer).
  local files = io.popen("ls '" .. out .. "'"):read("a")
  t.ok(files:match("^127%.0%.0%.1%.%d+\n$"), "one complete file, got: " .. files)
  t.eq(t.read_file(input), t.read_file(out .. "/" .. files:sub(1, -2)), "file content")
end

local tests = {
  { "a clean transfer of 200 KB", function() transfer(200000, false, 0, 0, 0) end },
  { "an empty file", function() transfer(0, false, 0, 0, 0) end },
  { "20 % loss, duplicates and corruption both ways", function() transfer(100000, false, 0.2, 0.1, 0.05) end },
  { "the same with SACK", function() transfer(100000, true, 0.2, 0.1, 0.05) end },
  { "50 % loss", function() transfer(20000, true, 0.5, 0, 0) end },
  { "a 3 s blackout in the middle", function() transfer(100000, false, 0.05, 0, 0, "0.5 3") end },

  { "the sender gives up with a message when nobody answers (RUDP-44)", function()
    local status, _, err = run(string.format("%s bin/rudp-sender -a 127.0.0.1 -p %d -f bin/hello --give-up 1.5", LUA, port()))
    t.eq(1, status)
    t.ok(err:find("giving up", 1, true), "stderr: " .. err)
  end },

  { "the sender names the file it cannot read", function()
    local status, _, err = run(LUA .. " bin/rudp-sender -a 127.0.0.1 -p 9 -f /nonexistent")
    t.eq(1, status)
    t.ok(err:find("/nonexistent", 1, true), "stderr: " .. err)
  end },

  { "a challenge exchange (HELLO-20, HELLO-21)", function()
    local p = port()
    local log = scratch .. "/server.out"
    start(string.format("%s bin/hello server %d --challenge > %s", LUA, p, log))
    local status, out = run(string.format("%s bin/hello client localhost %d", LUA, p))
    t.eq(0, status)
    t.eq("Goodbye Lua from Lua\n", out)
    socket.sleep(0.2)
    t.eq("127.0.0.1\nHello in Lua\n", t.read_file(log))
  end },

  { "the client says why when nothing listens (HELLO-8)", function()
    local status, out, err = run(string.format("%s bin/hello client 127.0.0.1 %d", LUA, port()))
    t.eq(1, status)
    t.eq("", out)
    t.ok(err:find("refused", 1, true), "stderr: " .. err)
  end },
}

local failed = t.run_tests("e2e", tests)
for _, pid in ipairs(background) do
  os.execute("kill " .. pid .. " 2>/dev/null")
end
os.exit(failed == 0 and 0 or 1)
