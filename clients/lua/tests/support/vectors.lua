-- The spec's test vectors (spec/vectors/README.md), copied into tests/vectors
-- so that the tests also run inside `docker build`, where only this folder
-- is visible. test_vectors.lua checks that the copies are current.
local json = require("support.json")
local testing = require("support.testing")

local vectors = {
  DIR = "tests/vectors",
  SPEC_DIR = "../../spec/vectors",
}

function vectors.load(name)
  return json.decode(testing.read_file(vectors.DIR .. "/" .. name))
end

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local SEXTET = {}
for i = 1, #ALPHABET do
  SEXTET[ALPHABET:byte(i)] = i - 1
end

-- Standard base64 with padding (RFC 4648 section 4) to bytes.
function vectors.base64(text)
  local out = {}
  for i = 1, #text, 4 do
    local a, b, c, d = text:byte(i, i + 3)
    local n = (SEXTET[a] << 18) | (SEXTET[b] << 12) | ((SEXTET[c] or 0) << 6) | (SEXTET[d] or 0)
    out[#out + 1] = string.char(n >> 16, (n >> 8) & 0xFF, n & 0xFF)
      :sub(1, c == 61 and 1 or d == 61 and 2 or 3) -- 61 is "=": padding
  end
  return table.concat(out)
end

-- A byte string of the vectors: { "base64": ..., "escaped": ... }.
function vectors.bytes(field)
  return vectors.base64(field.base64)
end

return vectors
