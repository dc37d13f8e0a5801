-- Runs the unit tests: lua5.4 tests/run.lua tests/test_*.lua (from the
-- folder clients/lua). Exits 1 if any test failed.
package.path = "lib/?.lua;tests/?.lua;" .. package.path
local testing = require("support.testing")
os.exit(testing.run(arg) == 0 and 0 or 1)
