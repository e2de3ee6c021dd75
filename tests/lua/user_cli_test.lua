-- candor user as a user meets it: add (with a password read from stdin and kept
-- only as a bcrypt hash), list, remove with what it deletes; usage errors exit 2,
-- clashes and refusals exit 1.
local T = require "candor.testing"
local json = require "candor.json"
local crypto = require "core.crypto"
local dbm = require "candor.db"

local function run(dir, argv, stdin)
  local o = T.fake_cli_env(dir)
  o.stdin = stdin
  return T.candor(argv, o)
end

-- As run(), on a pseudo-terminal from script(1) (util-linux), with input typed
-- into it: for the question remove asks there. out is what the terminal showed
-- (lines end in \r\n there).
local function run_on_terminal(dir, argv, input)
  local out = T.tmpdir()
  local inner = T.command_line(argv, T.fake_cli_env(dir)) .. " 2>" .. out .. "/err"
  local typed = T.write_file(out .. "/typed", input)
  local _, _, code = os.execute("SHELL=/bin/sh script -qec " .. T.shell_quote(inner) .. " /dev/null <" .. typed
    .. " >" .. out .. "/out 2>/dev/null")
  return { code = code, out = T.read_file(out .. "/out") or "", err = T.read_file(out .. "/err") or "" }
end

local function user_row(dir, name)
  local db = dbm.open(dir .. "/c.db")
  local row = db:first("SELECT * FROM users WHERE username = ?", name)
  db:close()
  return row
end

local function user_count(dir)
  local db = dbm.open(dir .. "/c.db")
  local n = db:value("SELECT count(*) FROM users")
  db:close()
  return n
end

T.test("user CLI: add with a bcrypt-hashed password, list, JSON; the new user owns sessions through --user", function()
  local dir = T.tmpdir()
  T.eq(run(dir, { "init" }).code, 0)
  local r = run(dir, { "user", "add", "ana", "--email", "ana@example.com", "--display-name", "Ana Ruiz", "--password-stdin" },
    "correct horse battery\n")
  T.eq(r.code, 0, r.err)
  local ana = user_row(dir, "ana")
  T.contains(r.out, "added user ana (" .. ana.id .. "), role user, password set")
  T.eq({ ana.email, ana.display_name, ana.role, ana.is_active }, { "ana@example.com", "Ana Ruiz", "user", 1 })
  T.ok(ana.password_hash:match("^%$2b%$12%$") and #ana.password_hash == 60, "a bcrypt hash of 12 rounds: " .. ana.password_hash)
  T.eq(crypto.bcrypt_verify("correct horse battery", ana.password_hash), true, "the line read, without its newline")
  T.eq(crypto.bcrypt_verify("correct horse battery\n", ana.password_hash), false)
  for k, v in pairs(ana) do T.ok(not tostring(v):find("horse", 1, true), "the password is stored nowhere in clear: " .. k) end

  r = run(dir, { "user", "add", "bo" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "role user, no password")
  local bo = user_row(dir, "bo")
  T.eq({ bo.email, bo.display_name, bo.password_hash }, { "bo@localhost", "bo", "!" }, "the defaults; no usable hash")

  r = run(dir, { "user", "list" })
  T.eq(r.code, 0, r.err)
  local lines = {}
  for line in r.out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  T.eq(#lines, 4, r.out)
  T.ok(lines[1]:match("^username%s+display name%s+email%s+role%s+active%s+password%s+sessions%s+created$"), lines[1])
  T.ok(lines[2]:match("^local%s+Local user%s+local@localhost%s+admin%s+yes%s+none%s+0 .*%(the CLI's default%)$"), lines[2])
  T.ok(lines[3]:match("^ana%s+Ana Ruiz%s+ana@example%.com%s+user%s+yes%s+set%s+0 "), lines[3])
  T.ok(lines[4]:match("^bo%s+bo%s+bo@localhost%s+user%s+yes%s+none%s+0 "), lines[4])
  T.eq(run(dir, { "user" }).out, r.out, "list is the default")

  local listed = json.decode(run(dir, { "user", "list", "--json" }).out)
  T.eq(#listed, 3)
  T.eq({ listed[2].username, listed[2].id, listed[2].role, listed[2].has_password, listed[2].sessions },
       { "ana", ana.id, "user", true, 0 })
  T.eq(listed[3].has_password, false)
  for _, u in ipairs(listed) do T.eq(u.password_hash, nil, "no hash in the JSON") end

  -- --user NAME now works, and the session is ana's alone
  r = run(dir, { "session", "new", "--pain", "Flaky tests", "--assets", "battlecard", "--pipeline", "standard",
    "--no-generate", "--json", "--user", "ana" })
  T.eq(r.code, 0, r.err)
  local id = json.decode(r.out).session.id
  T.contains(run(dir, { "session", "list", "--user", "ana" }).out, id)
  T.contains(run(dir, { "session", "list" }).out, "no sessions yet")
  T.eq(json.decode(run(dir, { "user", "list", "--json" }).out)[2].sessions, 1)
end)

T.test("user CLI: the first user of a database is an admin, later ones are not", function()
  local dir = T.tmpdir()
  local r = run(dir, { "user", "add", "root-1" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "role admin")
  T.eq(user_row(dir, "root-1").role, "admin")
  T.eq(run(dir, { "user", "add", "ana" }).code, 0)
  T.eq(user_row(dir, "ana").role, "user")
end)

T.test("user CLI: bad names, emails, display names and passwords are usage errors; nothing is written", function()
  local dir = T.tmpdir()
  T.eq(run(dir, { "init" }).code, 0)
  local usage = {
    { { "user", "add" }, "user add: missing the user's NAME" },
    { { "user", "remove" }, "user remove: missing the user's NAME" },
    { { "user", "add", "" }, "the user name is empty" },
    { { "user", "add", "ana smith" }, "'ana smith' is not a valid user name" },
    { { "user", "add", "ana;rm" }, "is not a valid user name" },
    { { "user", "add", ".ana" }, "starting with a letter or digit" },
    { { "user", "add", "josé" }, "'josé' is not a valid user name" },
    { { "user", "add", "ana\255" }, "the user name is not valid UTF%-8" },
    { { "user", "add", string.rep("a", 65) }, "longer than 64 characters" },
    { { "user", "add", "ana", "--email", "ana" }, "%-%-email 'ana' is not an email address" },
    { { "user", "add", "ana", "--email", "a b@example.com" }, "is not an email address" },
    { { "user", "add", "ana", "--display-name", " \t" }, "%-%-display%-name is empty" },
    { { "user", "add", "ana", "--display-name", "Ana\255" }, "the display name is not valid UTF%-8" },
    { { "user", "add", "ana", "--bogus" }, "user: unknown option %-%-bogus" },
    { { "user", "add", "ana", "--yes" }, "user add: option %-%-yes is not for this subcommand" },
    { { "user", "list", "--email", "x@y" }, "user list: option %-%-email is not for this subcommand" },
    { { "user", "list", "ana" }, "user list: unexpected argument 'ana'" },
    { { "user", "add", "ana", "bo" }, "user: unexpected argument 'bo'" },
    { { "user", "rename", "ana" }, "unknown subcommand 'rename' %(list, add NAME, remove NAME%)" },
  }
  for _, c in ipairs(usage) do
    local r = run(dir, c[1])
    T.eq(r.code, 2, table.concat(c[1], " ") .. "\n" .. r.err)
    T.ok(r.err:find(c[2]), table.concat(c[1], " ") .. ": " .. r.err)
    T.contains(r.err, "Try 'candor user --help'")
  end
  local passwords = {
    { "", "the password read from standard input is empty" },
    { "\n", "the password read from standard input is empty" },
    { "two\nlines\n", "is more than one line" },
    { "nul\0byte", "contains a NUL byte" },
    { string.rep("p", 73), "longer than 72 bytes" },
  }
  for _, c in ipairs(passwords) do
    local r = run(dir, { "user", "add", "ana", "--password-stdin" }, c[1])
    T.eq(r.code, 2, c[2] .. ": " .. r.err)
    T.contains(r.err, c[2])
  end
  T.eq(run(dir, { "user", "add", "ana", "--password-stdin" }, string.rep("p", 72)).code, 0, "72 bytes is bcrypt's most")
  T.eq(user_count(dir), 2, "only the local user and the last ana")
end)

T.test("user CLI: taken names and emails (in any case) and the local user are refused with exit 1", function()
  local dir = T.tmpdir()
  T.eq(run(dir, { "init" }).code, 0)
  T.eq(run(dir, { "user", "add", "ana", "--email", "ana@example.com" }).code, 0)
  local cases = {
    { { "user", "add", "ana" }, "user 'ana' already exists %(see 'candor user list'%)" },
    { { "user", "add", "ANA" }, "user 'ana' already exists %(names are compared without case%)" },
    { { "user", "add", "bo", "--email", "Ana@Example.com" }, "the email Ana@Example.com is already used by user 'ana'" },
    { { "user", "add", "local" }, "user 'local' is the CLI's own user" },
    { { "user", "remove", "local", "--yes" }, "user 'local' is the CLI's default user .*: it cannot be removed" },
    { { "user", "remove", "LOCAL", "--yes" }, "user 'local' is the CLI's default user .*: it cannot be removed" },
    { { "user", "remove", "nobody" }, "no user 'nobody' %(see 'candor user list'%)" },
  }
  for _, c in ipairs(cases) do
    local r = run(dir, c[1])
    T.eq(r.code, 1, table.concat(c[1], " ") .. "\n" .. r.err)
    T.ok(r.err:find(c[2]), table.concat(c[1], " ") .. ": " .. r.err)
  end
  T.eq(user_count(dir), 2)
  T.ok(user_row(dir, "local"), "the local user stays")
end)

T.test("user CLI: remove says what cascades; sessions need --yes (or a yes on a terminal)", function()
  local dir = T.tmpdir()
  T.eq(run(dir, { "init" }).code, 0)
  T.eq(run(dir, { "user", "add", "ana" }).code, 0)
  T.eq(run(dir, { "user", "add", "bo" }).code, 0)
  local ids = {}
  for _, who in ipairs { "ana", "ana", "local" } do
    local r = run(dir, { "session", "new", "--pain", "Flaky tests", "--assets", "battlecard", "--pipeline", "standard",
      "--no-generate", "--json", "--user", who })
    T.eq(r.code, 0, r.err)
    ids[#ids + 1] = json.decode(r.out).session.id
  end
  -- rows under ana's first session, as generation and chat leave them
  local db = dbm.open(dir .. "/c.db")
  local R = require("candor.repo").bind(db)
  R.session_versions.insert { session_id = ids[1], asset_type = "battlecard", version_number = 1, content = "v1",
    source = "generation", is_active = true }
  R.session_messages.insert { session_id = ids[1], role = "user", content = "why?" }
  R.session_messages.insert { session_id = ids[1], role = "assistant", content = "because" }
  R.llm_calls.insert { session_id = ids[1], model = "m", purpose = "workspace:chat", user_prompt = "why?" }
  db:close()
  local cascade = "2 sessions (1 version, 2 chat messages, 0 action jobs, 1 logged LLM call)"

  -- no sessions: removed at once
  local r = run(dir, { "user", "remove", "bo" })
  T.eq({ r.code, r.out }, { 0, "removed user bo (no sessions)\n" }, r.err)
  T.eq(user_row(dir, "bo"), nil)

  r = run(dir, { "user", "remove", "ana" })
  T.eq(r.code, 2, "no terminal to ask on: " .. r.err)
  T.contains(r.err, "user ana owns " .. cascade .. "; removing the user deletes them too: give --yes")
  T.ok(user_row(dir, "ana"), "not removed")
  r = run_on_terminal(dir, { "user", "remove", "ana" }, "n\n")
  T.eq(r.code, 1, r.err)
  T.contains(r.out, "Remove user ana and 2 sessions (")
  T.contains(r.out, "not removed\r\n")
  T.ok(user_row(dir, "ana"), "still not removed")

  r = run_on_terminal(dir, { "user", "remove", "ana" }, "y\n")
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "removed user ana and " .. cascade .. "\r\n")
  T.eq(user_row(dir, "ana"), nil)
  db = dbm.open(dir .. "/c.db")
  T.eq(db:first([[SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM session_versions) AS versions,
    (SELECT count(*) FROM session_messages) AS messages, (SELECT count(*) FROM llm_calls) AS calls]]),
    { sessions = 1, versions = 0, messages = 0, calls = 0 }, "ana's rows are gone, local's session stays")
  T.eq(db:value("SELECT id FROM sessions"), ids[3])
  db:close()
  r = run(dir, { "session", "list", "--user", "ana" })
  T.eq(r.code, 1)
  T.contains(r.err, "no user 'ana'")

  -- --yes needs no terminal
  T.eq(run(dir, { "user", "add", "cy" }).code, 0)
  T.eq(run(dir, { "session", "new", "--pain", "x", "--assets", "battlecard", "--pipeline", "standard", "--no-generate",
    "--user", "cy" }).code, 0)
  r = run(dir, { "user", "remove", "cy", "--yes" })
  T.eq({ r.code, r.out }, { 0, "removed user cy and 1 session (0 versions, 0 chat messages, 0 action jobs, 0 logged LLM calls)\n" },
    r.err)
end)

T.test("user CLI: --help, candor help user and the command list", function()
  local dir = T.tmpdir()
  local r = run(dir, { "user", "--help" })
  T.eq(r.code, 0)
  T.contains(r.out, "Usage: candor user [list] [--json]")
  T.contains(r.out, "candor user add NAME [--email E] [--display-name D] [--password-stdin]")
  T.contains(r.out, "candor user remove NAME [--yes]")
  T.contains(r.out, "--password-stdin")
  T.eq(run(dir, { "help", "user" }).out, r.out)
  T.contains(run(dir, { "help" }).out, "\n  user         Add, list and remove workspace users")
  r = run(dir, { "usr" })
  T.eq(r.code, 2)
  T.contains(r.err, "did you mean 'user'?")
end)

T.test("user CLI: control characters in an email or display name are refused, nothing written", function()
  local dir = T.tmpdir()
  T.eq(run(dir, { "init" }).code, 0)
  local cases = {
    { { "--email", "ana\27[31m@example.com" }, "user add: --email holds a control character (U+001B at byte 4)" },
    { { "--email", "ana@exa\1mple.com" }, "user add: --email holds a control character (U+0001 at byte 8)" },
    { { "--email", "ana@example.com\127" }, "user add: --email holds a control character (U+007F at byte 16)" },
    { { "--email", "ana@example.com\194\155" }, "user add: --email holds a control character (U+009B at byte 16)" },
    { { "--email", "ana@example.com\n" }, "user add: --email holds a control character (U+000A at byte 16)" },
    { { "--display-name", "Ana \27]0;pwned\7" }, "user add: --display-name holds a control character (U+001B at byte 5)" },
    { { "--display-name", "Ana\194\133Ruiz" }, "user add: --display-name holds a control character (U+0085 at byte 4)" },
  }
  for _, c in ipairs(cases) do
    local argv = { "user", "add", "ana" }
    for _, a in ipairs(c[1]) do argv[#argv + 1] = a end
    local r = run(dir, argv)
    T.eq(r.code, 2, c[2] .. ": " .. r.err)
    T.contains(r.err, c[2])
  end
  T.eq(user_count(dir), 1, "only the local user")
  -- white space in a display name is still folded to one line, not refused
  T.eq(run(dir, { "user", "add", "ana", "--display-name", "Ana\t\nRuiz" }).code, 0)
  T.eq(user_row(dir, "ana").display_name, "Ana Ruiz")
end)

T.test("user CLI: remove finds the user in any case, as names are unique without regard to it", function()
  local dir = T.tmpdir()
  T.eq(run(dir, { "init" }).code, 0)
  T.eq(run(dir, { "user", "add", "Ana.Ruiz" }).code, 0)
  local r = run(dir, { "user", "remove", "ANA.ruiz" })
  T.eq({ r.code, r.out }, { 0, "removed user Ana.Ruiz (no sessions)\n" }, r.err)
  T.eq(user_row(dir, "Ana.Ruiz"), nil, "gone")
  r = run(dir, { "user", "remove", "ana.ruiz" })
  T.eq(r.code, 1)
  T.contains(r.err, "no user 'ana.ruiz'")
end)
