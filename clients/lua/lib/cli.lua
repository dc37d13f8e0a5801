-- A small command-line parser for the three programs: flags like "-p 4000",
-- "-k" and "--give-up 30", the rest as positional arguments. Lua's standard
-- library has none, and the programs need only this much.
local cli = {}

-- `spec` maps each flag ("-p", "--challenge") to true when it takes a value,
-- false when it does not. Returns a table of the flags seen (value, or true)
-- and the list of positional arguments; or nil and a message.
function cli.parse(args, spec)
  local flags, positional = {}, {}
  local i = 1
  while i <= #args do
    local arg = args[i]
    if arg == "--" then
      table.move(args, i + 1, #args, #positional + 1, positional)
      break
    elseif arg:sub(1, 1) == "-" and #arg > 1 then
      local takes_value = spec[arg]
      if takes_value == nil then
        return nil, "unknown option " .. arg
      elseif takes_value then
        i = i + 1
        if args[i] == nil then
          return nil, "option " .. arg .. " needs a value"
        end
        flags[arg] = args[i]
      else
        flags[arg] = true
      end
    else
      positional[#positional + 1] = arg
    end
    i = i + 1
  end
  return flags, positional
end

-- A decimal port number 0..65535, or nil.
function cli.port(text)
  local port = text and text:match("^%d+$") and tonumber(text)
  if port and port <= 65535 then
    return math.tointeger(port)
  end
  return nil
end

-- Prints `message` and the usage on stderr and exits with status 2.
function cli.fail(program, message, usage)
  io.stderr:write(program, ": ", message, "\n", usage, "\n")
  os.exit(2)
end

return cli
