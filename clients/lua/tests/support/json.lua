-- Just enough JSON to read the spec's test vectors (RFC 8259: objects,
-- arrays, strings with escapes, numbers, true, false, null). Lua's standard
-- library has no JSON, and the image has no JSON package. null becomes
-- json.null, so that a key holding null is still present.
local json = { null = setmetatable({}, { __tostring = function() return "null" end }) }

local ESCAPES = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local decode_value -- forward declaration: values nest

local function fail(text, pos, what)
  error(string.format("JSON: %s at byte %d", what, pos), 0)
end

local function skip_space(text, pos)
  return text:find("[^ \t\r\n]", pos) or #text + 1
end

local function decode_string(text, pos) -- pos is at the opening quote
  local parts = {}
  local i = pos + 1
  while true do
    local stop = text:find('["\\]', i)
    if not stop then
      fail(text, pos, "unterminated string")
    end
    parts[#parts + 1] = text:sub(i, stop - 1)
    if text:sub(stop, stop) == '"' then
      return table.concat(parts), stop + 1
    end
    local kind = text:sub(stop + 1, stop + 1)
    if kind == "u" then
      local code = tonumber(text:sub(stop + 2, stop + 5), 16) or fail(text, stop, "bad \\u escape")
      i = stop + 6
      if code >= 0xD800 and code <= 0xDBFF and text:sub(i, i + 1) == "\\u" then -- a surrogate pair
        local low = tonumber(text:sub(i + 2, i + 5), 16)
        code = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00)
        i = i + 6
      end
      parts[#parts + 1] = utf8.char(code)
    else
      parts[#parts + 1] = ESCAPES[kind] or fail(text, stop, "bad escape")
      i = stop + 2
    end
  end
end

local function decode_list(text, pos, close, element)
  local i = skip_space(text, pos + 1)
  if text:sub(i, i) == close then
    return i + 1
  end
  while true do
    i = element(skip_space(text, i))
    i = skip_space(text, i)
    local c = text:sub(i, i)
    if c == close then
      return i + 1
    elseif c ~= "," then
      fail(text, i, "expected ',' or '" .. close .. "'")
    end
    i = i + 1
  end
end

function decode_value(text, pos)
  local c = text:sub(pos, pos)
  if c == "{" then
    local object = {}
    local next_pos = decode_list(text, pos, "}", function(i)
      if text:sub(i, i) ~= '"' then
        fail(text, i, "expected a key")
      end
      local key
      key, i = decode_string(text, i)
      i = skip_space(text, i)
      if text:sub(i, i) ~= ":" then
        fail(text, i, "expected ':'")
      end
      object[key], i = decode_value(text, skip_space(text, i + 1))
      return i
    end)
    return object, next_pos
  elseif c == "[" then
    local array = {}
    local next_pos = decode_list(text, pos, "]", function(i)
      array[#array + 1], i = decode_value(text, i)
      return i
    end)
    return array, next_pos
  elseif c == '"' then
    return decode_string(text, pos)
  end
  for word, value in pairs({ ["true"] = true, ["false"] = false, null = json.null }) do
    if text:sub(pos, pos + #word - 1) == word then
      return value, pos + #word
    end
  end
  local number = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  if number and number ~= "" then
    return math.tointeger(tonumber(number)) or tonumber(number), pos + #number
  end
  fail(text, pos, "unexpected character")
end

function json.decode(text)
  local value, pos = decode_value(text, skip_space(text, 1))
  if skip_space(text, pos) <= #text then
    fail(text, pos, "trailing text")
  end
  return value
end

return json
