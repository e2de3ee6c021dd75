-- Where the candor command's output goes, when that is not a plain file: a full
-- disk (/dev/full), a pipe whose reader has gone, a closed standard stream.
local T = require "candor.testing"
local json = require "candor.json"

-- sh(dir, script) -> {code, out, err}: script run by /bin/sh with $CANDOR the
-- binary and a database in dir; what it leaves on standard output and error
-- (those it does not redirect itself) in out and err.
local function sh(dir, script)
  local env = string.format("CANDOR=%s CANDOR_DB=%s HOME=%s XDG_STATE_HOME=%s; export CANDOR CANDOR_DB HOME XDG_STATE_HOME; "
    .. "unset CANDOR_PATH NO_COLOR; ", T.shell_quote(T.binary), T.shell_quote(dir .. "/c.db"), T.shell_quote(dir),
    T.shell_quote(dir .. "/state"))
  local _, _, code = os.execute("/bin/sh -c " .. T.shell_quote(env .. script) .. " </dev/null >" .. dir .. "/out 2>" .. dir .. "/err")
  return { code = code, out = T.read_file(dir .. "/out") or "", err = T.read_file(dir .. "/err") or "" }
end

-- A query whose answer is far larger than a pipe holds (200,000 lines).
local MANY_ROWS = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 200000) SELECT x FROM n"

local function session_id(dir)
  local r = sh(dir, '"$CANDOR" init >/dev/null && "$CANDOR" session new --pain "Flaky tests" --assets battlecard '
    .. '--pipeline standard --no-generate --json')
  T.eq(r.code, 0, r.err)
  return json.decode(r.out).session.id
end

T.test("output that cannot be written (a full disk) fails the command: exit 1, saying where and why", function()
  local dir = T.tmpdir()
  local id = session_id(dir)
  local full = "candor: cannot write standard output: No space left on device\n"
  for _, script in ipairs {
    '"$CANDOR" version >/dev/full',                          -- one short line: lost at the last flush
    '"$CANDOR" help >/dev/full',
    '"$CANDOR" session list >/dev/full',
    '"$CANDOR" sql "' .. MANY_ROWS .. '" >/dev/full',           -- lost while it runs
    '"$CANDOR" session export ' .. id .. ' >/dev/full',
  } do
    local r = sh(dir, script)
    T.eq({ r.code, r.err }, { 1, full }, script)
  end
  -- a write made straight to the stream, not through the CLI's own output, is caught at the close
  local script = T.write_file(dir .. "/write.lua", 'io.write("hello\\n")\n')
  local r = sh(dir, '"$CANDOR" lua ' .. T.shell_quote(script) .. ' >/dev/full')
  T.eq({ r.code, r.err }, { 1, full })
  T.eq(sh(dir, '"$CANDOR" version >/dev/null').code, 0, "output that went somewhere is fine")
end)

T.test("session export --output: a file that cannot be written, or an empty path, is refused", function()
  local dir = T.tmpdir()
  local id = session_id(dir)
  local r = sh(dir, '"$CANDOR" session export ' .. id .. ' --output /dev/full')
  T.eq({ r.code, r.err }, { 1, "candor: cannot write /dev/full: No space left on device\n" })
  local missing = dir .. "/no/such/dir/out.md"
  r = sh(dir, '"$CANDOR" session export ' .. id .. ' --output ' .. T.shell_quote(missing))
  T.eq({ r.code, r.err }, { 1, "candor: cannot write " .. missing .. ": No such file or directory\n" },
    "the path said once")
  r = sh(dir, '"$CANDOR" session export ' .. id .. " --output ''")
  T.eq(r.code, 2, r.err)
  T.contains(r.err, "candor: --output needs a path\n")
  T.contains(r.err, "Try 'candor session --help'")
  local out = dir .. "/out.md"
  r = sh(dir, '"$CANDOR" session export ' .. id .. ' --output ' .. T.shell_quote(out))
  T.eq(r.code, 0, r.err)
  T.contains(T.read_file(out), "Flaky tests")
end)

T.test("a pipe whose reader has gone (into head) ends the command quietly", function()
  local dir = T.tmpdir()
  T.eq(sh(dir, '"$CANDOR" init >/dev/null').code, 0)
  local r = sh(dir, '{ "$CANDOR" sql "' .. MANY_ROWS .. '"; echo $? >' .. T.shell_quote(dir .. "/code") .. '; } | head -n 2')
  T.eq(r.code, 0)
  T.eq(select(2, r.out:gsub("\n", "")), 2, "head's two lines: " .. r.out)
  T.eq(r.err, "", "no message about the broken pipe")
  T.eq(T.read_file(dir .. "/code"), "1\n", "not a success: the output was not all written")
end)

T.test("a closed standard input, output or error does not abort the command", function()
  local dir = T.tmpdir()
  T.eq(sh(dir, '"$CANDOR" init >/dev/null').code, 0)
  local version = "^candor %d+%.%d+%.%d+ "
  local r = sh(dir, '"$CANDOR" version <&-')
  T.eq(r.code, 0, r.err)
  T.ok(r.out:find(version), r.out)
  r = sh(dir, '"$CANDOR" version 2>&-')
  T.eq(r.code, 0)
  T.ok(r.out:find(version), r.out)
  r = sh(dir, '"$CANDOR" session list >&-')
  T.eq({ r.code, r.err }, { 0, "" })
  r = sh(dir, '"$CANDOR" sql --write "CREATE TABLE kept (x)" >&-')
  T.eq({ r.code, r.err }, { 0, "" })
  -- an error with standard error closed still gives its exit code
  T.eq(sh(dir, '"$CANDOR" nosuchcommand 2>&-').code, 2)
  T.eq(sh(dir, '"$CANDOR" sql "SELECT * FROM no_such_table" 2>&-').code, 1)
  -- what would have gone to standard output went nowhere, not into the database
  -- (which would otherwise have been given the number of the closed stream)
  r = sh(dir, '"$CANDOR" sql "PRAGMA integrity_check" <&-')
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "ok")
  T.contains(sh(dir, '"$CANDOR" sql "SELECT name FROM sqlite_master WHERE name = \'kept\'"').out, "kept")
end)
