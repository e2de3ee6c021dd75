-- The candor command as a user meets it: output, files and exit codes.
local T = require "candor.testing"
local cjson = require "cjson"

local function env_for(dir, extra)
  local env = { CANDOR_DB = dir .. "/c.db", XDG_STATE_HOME = dir .. "/state", HOME = dir }
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

local function candor(dir, argv, opts)
  opts = opts or {}
  opts.env = env_for(dir, opts.env)
  opts.unset = { "CANDOR_PATH", "NO_COLOR" }
  return T.candor(argv, opts)
end

T.test("version and help", function()
  local dir = T.tmpdir()
  local r = candor(dir, { "version" })
  T.eq(r.code, 0)
  T.ok(r.out:match("^candor %d+%.%d+%.%d+ %(Lua 5%.4%.%d+, SQLite 3%.%d+%.%d+%)\n$"), r.out)
  r = candor(dir, { "help" })
  T.eq(r.code, 0)
  for _, c in ipairs({ "init", "run", "workflows", "sql", "repl", "version" }) do
    T.contains(r.out, "  " .. c .. " ")
  end
  T.eq(candor(dir, {}).out, r.out, "no command prints help")
  T.eq(candor(dir, { "--help" }).out, r.out)
end)

T.test("every command has --help and exits 0", function()
  local dir = T.tmpdir()
  for _, c in ipairs({ "init", "run", "workflows", "sql", "repl", "lua", "version", "help" }) do
    local r = candor(dir, { c, "--help" })
    T.eq(r.code, 0, c)
    T.contains(r.out, "Usage: candor " .. c, c)
    T.contains(r.out, "--db PATH", c)
  end
  T.eq(candor(dir, { "help", "run" }).out, candor(dir, { "run", "--help" }).out)
end)

T.test("usage errors exit 2 with a one-line hint", function()
  local dir = T.tmpdir()
  local cases = {
    { { "wokflows" }, "unknown command 'wokflows' %(did you mean 'workflows'%?%)" },
    { { "sql", "--bogus", "x" }, "sql: unknown option %-%-bogus" },
    { { "sql" }, "sql: missing SQL" },
    { { "run" }, "run: missing WORKFLOW" },
    { { "run", "examples/demo", "--param", "novalue" }, "%-%-param wants KEY=VALUE" },
    { { "run", "examples/demo", "--param", "colour=red" }, "has no parameter 'colour'" },
    { { "run", "no/such/flow" }, "no workflow named 'no/such/flow'" },
    { { "init", "extra" }, "unexpected argument 'extra'" },
    { { "--db" }, "option %-%-db needs a value" },
    { { "sql", "--db" }, "option %-%-db needs a value" },
    { { "version", "--json=1" }, "unknown option %-%-json" },
    { { "--db", "", "init" }, "%-%-db needs a path" },
    { { "run", "examples/demo", "--max-instructions", "1.5" }, "%-%-max%-instructions must be a whole number" },
    { { "run", "examples/demo", "--max-memory", "-3" }, "%-%-max%-memory must be a positive number" },
  }
  for _, case in ipairs(cases) do
    local r = candor(dir, case[1])
    local what = table.concat(case[1], " ")
    T.eq(r.code, 2, what)
    T.ok(r.err:find(case[2]), what .. ": " .. r.err)
    T.contains(r.err, "Try 'candor", what)
    T.eq(select(2, r.err:gsub("\n", "")), 2, what .. ": two lines")
  end
end)

T.test("init creates every table and seeds once; a second init changes nothing", function()
  local dir = T.tmpdir()
  local r = candor(dir, { "init" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "Created " .. dir .. "/c.db")
  -- init counts every table, and later migrations add Candor's own (0002_schedules)
  -- beside the contract's: check the 20 by name, and that init counts them all.
  local contract = {}
  for _, t in ipairs(require("candor.repo").tables) do contract[#contract + 1] = "'" .. t .. "'" end
  T.eq(candor(dir, { "sql", "SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table' AND name IN ("
    .. table.concat(contract, ", ") .. ")" }).out, "n\n20\n", "the 20 contract tables")
  local counted = tonumber(r.out:match("(%d+) tables"))
  T.ok(counted and counted >= 20, r.out)
  local function counts()
    return candor(dir, { "sql", "--json", [[SELECT
      (SELECT count(*) FROM settings) AS settings, (SELECT count(*) FROM voice_profiles) AS voices,
      (SELECT count(*) FROM persona_critics) AS critics, (SELECT count(*) FROM messaging_priorities) AS priorities,
      (SELECT count(*) FROM schema_migrations) AS migrations]] }).out
  end
  local first = cjson.decode(counts())[1]
  T.eq(first.voices, 4)
  T.eq(first.priorities, 1)
  T.ok(first.settings >= 10 and first.critics >= 4, counts())
  r = candor(dir, { "init" })
  T.eq(r.code, 0)
  T.contains(r.out, "Checked")
  T.contains(r.out, "seeded: nothing new")
  T.eq(cjson.decode(counts())[1], first)
  local j = cjson.decode(candor(dir, { "init", "--json" }).out)
  T.eq(j.tables, counted)
  T.eq(j.created, false)
end)

T.test("a user's edit to seeded data survives init", function()
  local dir = T.tmpdir()
  candor(dir, { "init" })
  local r = candor(dir, { "sql", "--write", "UPDATE voice_profiles SET name = 'Our Forum Voice' WHERE slug = 'practitioner-community'" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "1 row changed")
  candor(dir, { "init" })
  T.eq(candor(dir, { "sql", "SELECT name FROM voice_profiles WHERE slug = 'practitioner-community'" }).out,
       "name\nOur Forum Voice\n")
end)

T.test("database location: --db, then CANDOR_DB, then XDG_DATA_HOME", function()
  local dir = T.tmpdir()
  local r = T.candor({ "init" }, { env = { XDG_DATA_HOME = dir .. "/xdg", HOME = dir }, unset = { "CANDOR_DB" } })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, dir .. "/xdg/candor/candor.db")
  r = candor(dir, { "--db", dir .. "/flag.db", "init" })
  T.contains(r.out, dir .. "/flag.db")
  r = candor(dir, { "init", "--db=" .. dir .. "/after.db" })
  T.contains(r.out, dir .. "/after.db")
  r = candor(dir, { "init" })
  T.contains(r.out, dir .. "/c.db")
end)

T.test("sql: tab-separated when piped, JSON, NULLs, read-only unless --write", function()
  local dir = T.tmpdir()
  candor(dir, { "init" })
  local r = candor(dir, { "sql", "SELECT 1 AS a, NULL AS b, 'x y' AS c" })
  T.eq(r.out, "a\tb\tc\n1\t\\N\tx y\n")
  r = candor(dir, { "sql", "--json", "SELECT 1 AS a, NULL AS b, 2.5 AS c" })
  T.eq(r.out, '[{"a":1,"b":null,"c":2.5}]\n')
  r = candor(dir, { "sql", "DELETE FROM settings" })
  T.eq(r.code, 1)
  T.contains(r.err, "pass --write")
  T.ok(tonumber(candor(dir, { "sql", "SELECT count(*) FROM settings" }).out:match("\n(%d+)")) > 0, "nothing deleted")
  r = candor(dir, { "sql", "SELECT * FROM nope" })
  T.eq(r.code, 1)
  T.contains(r.err, "no such table: nope")
  r = candor(dir, { "sql", "  " })
  T.eq(r.code, 2)
end)

T.test("run: the bundled demo writes and reads real rows", function()
  local dir = T.tmpdir()
  local r = candor(dir, { "run", "examples/demo", "--json", "--param", "title=Slow builds" })
  T.eq(r.code, 0, r.err)
  local out = cjson.decode(r.out)
  T.eq(out.pain_point.title, "Slow builds")
  T.eq(#out.voices, 4)
  local q = candor(dir, { "sql", "SELECT p.title, j.status FROM generation_jobs j JOIN discovered_pain_points p ON p.id = j.pain_point_id" })
  T.eq(q.out, "title\tstatus\nSlow builds\tpending\n")
end)

T.test("a workflow on CANDOR_PATH runs, and an edit applies without rebuilding", function()
  local dir = T.tmpdir()
  os.execute("mkdir -p " .. dir .. "/mine/workflows")
  local wf = dir .. "/mine/workflows/count.lua"
  T.write_file(wf, [[return { description = "count voices", run = function(ctx)
    return "voices: " .. ctx.repo.voice_profiles.count() end }]])
  local env = { CANDOR_PATH = dir .. "/mine" }
  local r = candor(dir, { "run", "count" }, { env = env })
  T.eq(r.out, "voices: 4\n", r.err)
  T.write_file(wf, [[return { run = function(ctx) return "critics: " .. ctx.repo.persona_critics.count() end }]])
  r = candor(dir, { "run", "count" }, { env = env })
  T.eq(r.out, "critics: 5\n", r.err)
  r = candor(dir, { "run", wf })
  T.eq(r.out, "critics: 5\n", "a path works too")
end)

T.test("a user's copy on CANDOR_PATH overrides the built-in workflow", function()
  local dir = T.tmpdir()
  os.execute("mkdir -p " .. dir .. "/mine/workflows/examples")
  T.write_file(dir .. "/mine/workflows/examples/demo.lua",
    [[return { description = "my demo", run = function() return "overridden" end }]])
  local env = { CANDOR_PATH = "/nonexistent:" .. dir .. "/mine" }
  T.eq(candor(dir, { "run", "examples/demo" }, { env = env }).out, "overridden\n")
  local list = candor(dir, { "workflows" }, { env = env }).out
  T.contains(list, "examples/demo (yours, overrides built-in)")
  T.contains(list, "my demo")
  -- actions show how to run them, with their own options
  T.contains(list, "run: candor session action adversarial SESSION_ID [--asset TYPE] [--rounds N]\n")
  T.contains(list, "run: candor session action deslop SESSION_ID [--asset TYPE]\n")
  local j = cjson.decode(candor(dir, { "workflows", "--json" }, { env = env }).out)
  local demo
  for _, w in ipairs(j) do if w.name == "examples/demo" then demo = w end end
  T.eq(demo.overrides_builtin, true)
  T.eq(candor(dir, { "run", "examples/demo", "--json" }).out:sub(1, 1), "{", "without CANDOR_PATH the built-in runs")
end)

T.test("a runaway workflow is stopped: exit 1, the workflow and line named", function()
  local dir = T.tmpdir()
  local wf = T.write_file(dir .. "/spin.lua", 'return { name = "spin", run = function()\n  while true do end\nend }')
  local r = candor(dir, { "run", wf, "--max-instructions", "5000000" })
  T.eq(r.code, 1)
  T.eq(r.err, "candor: " .. wf .. ":2: workflow 'spin' stopped: exceeded its instruction limit of 5000000 instructions (runaway loop?)\n")
  r = candor(dir, { "run", wf, "--max-instructions", "5000000", "--verbose" })
  T.contains(r.err, "stack traceback:")
end)

T.test("broken workflows: an error, an empty file, a syntax error", function()
  local dir = T.tmpdir()
  local wf = T.write_file(dir .. "/err.lua", 'return { run = function()\n  error("no pain given")\nend }')
  local r = candor(dir, { "run", wf })
  T.eq(r.code, 1)
  T.eq(r.err, "candor: " .. wf .. ":2: no pain given\n")
  r = candor(dir, { "run", T.write_file(dir .. "/empty.lua", "") })
  T.eq(r.code, 1)
  T.contains(r.err, "must return a table with a run(ctx, params) function")
  r = candor(dir, { "run", T.write_file(dir .. "/syn.lua", "return {{") })
  T.eq(r.code, 1)
  T.contains(r.err, "syn.lua:1:")
end)

T.test("a Lua error in a luv timer callback is reported and the host keeps running", function()
  local dir = T.tmpdir()
  local script = T.write_file(dir .. "/timer.lua", [[
    local uv = require "luv"
    local async = require "candor.async"
    local t = uv.new_timer()
    t:start(1, 0, function() t:close() error("timer exploded") end)
    async.sleep(30)
    print("still running")
  ]])
  local r = candor(dir, { "lua", script })
  T.eq(r.code, 0)
  T.eq(r.out, "still running\n")
  T.contains(r.err, "candor: error in callback:")
  T.contains(r.err, "timer exploded")
end)

T.test("bad database paths: a directory, an unwritable place, a corrupt file", function()
  local dir = T.tmpdir()
  local r = candor(dir, { "--db", dir, "init" })
  T.eq(r.code, 1)
  T.eq(r.err, "candor: cannot open database " .. dir .. ": it is a directory\n")
  r = candor(dir, { "--db", "/sys/candor-test.db", "init" })
  T.eq(r.code, 1)
  T.contains(r.err, "cannot open database /sys/candor-test.db")
  local bad = T.write_file(dir .. "/corrupt.db", string.rep("garbage ", 1000))
  r = candor(dir, { "--db", bad, "sql", "SELECT 1" })
  T.eq(r.code, 1)
  T.eq(r.err, "candor: cannot open database " .. bad .. ": file is not a database\n")
  T.eq(T.read_file(bad), string.rep("garbage ", 1000), "the corrupt file is left untouched")
  if os.getenv("USER") ~= "root" and os.getenv("EUID") ~= "0" and not T.read_file("/root/.bashrc") then
    local ro = T.write_file(dir .. "/ro.db", "")
    os.execute("chmod 444 " .. ro)
    r = candor(dir, { "--db", ro, "init" })
    T.eq(r.code, 1)
    T.contains(r.err, "read-only")
  end
end)

T.test("repl: piped chunks run without prompts, multi-line input, tasks awaited", function()
  local dir = T.tmpdir()
  local r = candor(dir, { "repl" }, { stdin = table.concat({
    "1 + 1",
    "function double(x)",
    "  return x * 2",
    "end",
    "double(21)",
    "repo.voice_profiles.count()",
    "spawn(function() sleep(5) return 'awaited' end)",
    "local t = {} t.me = t return t",
    "run('examples/demo').priority",
    "db:value('SELECT count(*) FROM discovered_pain_points')",
  }, "\n") .. "\n" })
  T.eq(r.code, 0, r.err)
  T.eq(r.out, '2\n42\n4\n"awaited"\n{\n  me = <cycle: ' .. r.out:match("<cycle: ([^>]+)>") .. '>,\n}\n"General"\n1\n')
  r = candor(dir, { "repl" }, { stdin = "error('boom')\nreturn 'after'\n" })
  T.eq(r.code, 1)
  T.eq(r.out, '"after"\n')
  T.contains(r.err, "boom")
end)

T.test("regressions: init --json on creation, change counts, error tables, a same-named directory", function()
  local dir = T.tmpdir()
  local j = cjson.decode(candor(dir, { "init", "--json" }).out)
  T.eq(j.created, true)
  T.eq(j.seeded.voice_profiles, 4, "what the first open seeded is reported")
  j = cjson.decode(candor(dir, { "init", "--json" }).out)
  T.eq(candor(dir, { "init", "--json" }).out:match('"migrations":(%[%])') ~= nil, true, "no migrations is []")
  T.eq(candor(dir, { "sql", "--write", "PRAGMA foreign_keys = ON" }).out, "0 rows changed\n")
  local wf = T.write_file(dir .. "/tbl.lua", 'return { run = function() error({ message = "structured failure", code = 7 }) end }')
  local r = candor(dir, { "run", wf })
  T.eq(r.code, 1)
  T.eq(r.err, "candor: structured failure\n")
  os.execute("mkdir -p " .. dir .. "/examples/demo")
  r = candor(dir, { "run", "examples/demo", "--json" }, { cwd = dir })
  T.eq(r.code, 0, r.err)
end)

T.test("on a terminal, a --db path that named no database is reported as made (a typo shows)", function()
  local dir = T.tmpdir()
  local typescript = dir .. "/tty.out"
  local inner = T.command_line({ "sql", "--db", dir .. "/tyop/c.db", "SELECT 7" },
    { env = { HOME = dir, XDG_DATA_HOME = dir .. "/data" }, unset = { "CANDOR_PATH", "CANDOR_DB" } })
  os.execute("SHELL=/bin/sh script -qec " .. T.shell_quote(inner) .. " " .. T.shell_quote(typescript) .. " </dev/null >/dev/null 2>&1")
  local seen = T.read_file(typescript) or ""
  T.contains(seen, "candor: created a new database at " .. dir .. "/tyop/c.db")
  T.contains(seen, "7")
  -- the second time it exists: nothing to say; and off a terminal nothing is said
  os.execute("SHELL=/bin/sh script -qec " .. T.shell_quote(inner) .. " " .. T.shell_quote(typescript) .. " </dev/null >/dev/null 2>&1")
  T.ok(not (T.read_file(typescript) or ""):find("created a new database", 1, true), "said once")
  local r = candor(dir, { "sql", "--db", dir .. "/other.db", "SELECT 1" })
  T.eq({ r.code, r.err }, { 0, "" })
end)
