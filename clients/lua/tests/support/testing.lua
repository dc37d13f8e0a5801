-- A small test runner: test files return a list of { name, function } pairs;
-- a test fails when its function raises an error. The plain summary line
-- "N passed, N failed" is what CI logs and humans read.
local testing = {}

-- Compares with ==, and shows long or binary strings readably on failure.
local function show(value)
  if type(value) == "string" then
    local text = value:sub(1, 200):gsub("[^\32-\126]", function(c) return string.format("\\x%02x", c:byte()) end)
    return '"' .. text .. '"' .. (#value > 200 and ("... (" .. #value .. " bytes)") or "")
  end
  return tostring(value)
end

function testing.eq(expected, actual, what)
  if expected ~= actual then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", show(expected), show(actual)), 2)
  end
end

function testing.ok(value, what)
  if not value then
    error((what or "expected a true value"), 2)
  end
end

-- Compares two lists element by element.
function testing.same_list(expected, actual, what)
  local prefix = what and (what .. ": ") or ""
  if #expected ~= #actual then
    error(string.format("%sexpected %d elements, got %d", prefix, #expected, #actual), 2)
  end
  for i = 1, #expected do
    if expected[i] ~= actual[i] then
      error(string.format("%selement %d: expected %s, got %s", prefix, i, show(expected[i]), show(actual[i])), 2)
    end
  end
end

-- Runs a list of tests; returns the numbers passed and failed.
local function run_list(where, tests)
  local passed, failed = 0, 0
  for _, test in ipairs(tests) do
    local name, fn = test[1], test[2]
    local ok, err = xpcall(fn, debug.traceback)
    if ok then
      passed = passed + 1
    else
      failed = failed + 1
      io.stdout:write("FAIL ", where, ": ", name, "\n  ", (tostring(err):gsub("\n", "\n  ")), "\n")
    end
  end
  return passed, failed
end

-- Runs one list of tests and prints the summary; returns the failures.
function testing.run_tests(where, tests)
  local passed, failed = run_list(where, tests)
  io.stdout:write(string.format("%d passed, %d failed\n", passed, failed))
  return failed
end

-- Runs every test of the given files; returns the number of failures.
function testing.run(files)
  local passed, failed = 0, 0
  for _, file in ipairs(files) do
    local p, f = run_list(file, dofile(file))
    passed, failed = passed + p, failed + f
  end
  io.stdout:write(string.format("%d passed, %d failed\n", passed, failed))
  return failed
end

-- Fresh empty directories under /tmp. Lua has no mkdir, and starting a
-- shell is slow on a busy machine, so one shell makes a batch of them.
local spare_dirs = {}

function testing.temp_dir()
  if #spare_dirs == 0 then
    local pipe = assert(io.popen('d=$(mktemp -d /tmp/lua-test.XXXXXX) && cd "$d" && mkdir $(seq 1 32) && echo "$d"'))
    local base = pipe:read("l")
    pipe:close()
    for i = 32, 1, -1 do
      spare_dirs[#spare_dirs + 1] = base .. "/" .. i
    end
  end
  return table.remove(spare_dirs)
end

local function exists(path)
  local file = io.open(path, "rb")
  if file then
    file:close()
  end
  return file ~= nil
end

-- Which of the file names `candidates` exist in `dir`, sorted. (Listing a
-- directory would need a shell too; a receiver's names are predictable.)
function testing.files_in(dir, candidates)
  local names = {}
  for _, name in ipairs(candidates) do
    if exists(dir .. "/" .. name) then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end

function testing.read_file(path)
  local file = assert(io.open(path, "rb"))
  local data = file:read("a")
  file:close()
  return data
end

return testing
