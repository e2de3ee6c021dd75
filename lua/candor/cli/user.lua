-- candor user [list|add NAME|remove NAME]: the workspace users that --user names.
local show = require "candor.cli.show"

local M = {
  name = "user",
  summary = "Add, list and remove workspace users (the owners --user NAME acts as).",
  usage = "candor user [list] [--json]\n"
    .. "       candor user add NAME [--email E] [--display-name D] [--password-stdin]\n"
    .. "       candor user remove NAME [--yes]",
  description = "Every workspace session belongs to a user; commands act as the local user ('local', made by\n"
    .. "'candor init') unless given --user NAME. NAME is 1 to 64 letters, digits, '.', '_' or '-',\n"
    .. "starting with a letter or digit; names and emails are unique without regard to case.\n"
    .. "The first user in a database is an admin, every later one a user.\n"
    .. "--password-stdin reads the password (one line, at most 72 bytes) from standard input and\n"
    .. "stores only its bcrypt hash; without it the user has no password and cannot log in.\n"
    .. "'remove' deletes the user's sessions with them (and their versions, chat messages, action\n"
    .. "jobs and logged LLM calls); generation jobs and stored assets stay. A user who owns\n"
    .. "sessions is removed only after a yes on the terminal, or with --yes. The local user\n"
    .. "cannot be removed.",
  options = {
    { "email", arg = "E", help = "add: the email address (default: NAME@localhost)" },
    { "display-name", arg = "D", help = "add: the name shown for the user (default: NAME)" },
    { "password-stdin", help = "add: read the password from standard input" },
    { "yes", "y", help = "remove: do not ask, even when the user owns sessions" },
    { "json", help = "list: print JSON" },
  },
  max_args = 2,
  examples = {
    "candor user add ana --email ana@example.com --display-name 'Ana Ruiz'",
    "printf '%s\\n' \"$PASSWORD\" | candor user add ana --password-stdin",
    "candor session list --user ana",
    "candor user remove ana --yes",
  },
}

local ALLOWED = {
  list = { json = true },
  add = { email = true, ["display-name"] = true, ["password-stdin"] = true },
  remove = { yes = true },
}

local usage = show.usage
local check_utf8 = require("candor.text").check_utf8
local trim = require("candor.text").trim

local function users() return require "candor.repo.users" end
local function local_name() return require("candor.workspace").LOCAL end

-- A username is typed after --user and shown in columns: short, one word, no
-- characters a shell or a terminal would mangle.
local function check_username(name)
  check_utf8(name, "the user name")
  if name == "" then error(usage("user add: the user name is empty"), 0) end
  if #name > 64 then error(usage("user add: the user name is longer than 64 characters"), 0) end
  if not name:match("^[%w][%w._-]*$") then
    error(usage("user add: '%s' is not a valid user name: use letters, digits, '.', '_' or '-', "
      .. "starting with a letter or digit", show.one_line(name, 40)), 0)
  end
  return name
end

-- A usage error when s holds a control character (C0, DEL or C1): shown in
-- a list, a terminal would obey it (ESC starts colours and cursor moves).
local function refuse_control(s, option)
  local at = s:find("%c") or s:find("\194[\128-\159]")
  if at then
    error(usage("user add: --%s holds a control character (U+%04X at byte %d)", option, utf8.codepoint(s, at), at), 0)
  end
end

local function check_email(email)
  check_utf8(email, "the email address")
  refuse_control(email, "email")
  if not email:match("^[^%s@]+@[^%s@]+$") then
    error(usage("user add: --email '%s' is not an email address (NAME@DOMAIN)", show.one_line(email, 60)), 0)
  end
  return email
end

local function check_display_name(d)
  check_utf8(d, "the display name")
  d = trim((d:gsub("%s+", " ")))   -- tabs and newlines too: a name is one line
  refuse_control(d, "display-name")
  if d == "" then error(usage("user add: --display-name is empty"), 0) end
  if utf8.len(d) > 200 then error(usage("user add: --display-name is longer than 200 characters"), 0) end
  return d
end

-- The password from standard input: one line, its newline dropped. bcrypt reads
-- only 72 bytes and stops at a NUL, so anything it would ignore is refused here.
local function read_password()
  local host = require "core.host"
  if host.isatty(0) then
    -- reading it here would echo it on the screen
    error(usage("user add: --password-stdin reads a pipe or a file, and standard input is a terminal "
      .. "(try: printf '%%s\\n' \"$PASSWORD\" | candor user add ...)"), 0)
  end
  local pw = (io.stdin:read("a") or ""):gsub("\r?\n$", "")
  if pw == "" then error(usage("user add: the password read from standard input is empty"), 0) end
  if pw:find("[\r\n]") then error(usage("user add: the password read from standard input is more than one line"), 0) end
  if pw:find("%z") then error(usage("user add: the password contains a NUL byte"), 0) end
  if #pw > 72 then error(usage("user add: the password is longer than 72 bytes (bcrypt reads no more)"), 0) end
  return pw
end

local function has_password(u) return type(u.password_hash) == "string" and u.password_hash:match("^%$2[aby]%$") ~= nil end

-- "2 sessions (5 versions, 3 chat messages, 1 action job, 7 logged LLM calls)"
local function owned_text(c)
  local function n(count, one, many) return string.format("%d %s", count, count == 1 and one or many) end
  return string.format("%s (%s, %s, %s, %s)", n(c.sessions, "session", "sessions"),
    n(c.session_versions, "version", "versions"), n(c.session_messages, "chat message", "chat messages"),
    n(c.action_jobs, "action job", "action jobs"), n(c.llm_calls, "logged LLM call", "logged LLM calls"))
end

local function list(app, opts)
  local db = app.db()
  local sessions = require "candor.repo.sessions"
  local rows = users():list(db, nil, { order = "created_at, rowid" })
  local counts = {}
  for i, u in ipairs(rows) do counts[i] = sessions:count(db, { user_id = u.id }) end
  if opts.json then
    local out = require("candor.json").array {}
    for i, u in ipairs(rows) do   -- never the hash: only whether there is one
      out[i] = { id = u.id, username = u.username, email = u.email, display_name = u.display_name, role = u.role,
        is_active = u.is_active, has_password = has_password(u), sessions = counts[i],
        last_login_at = u.last_login_at, created_at = u.created_at, updated_at = u.updated_at }
    end
    show.json(app, out)
    return 0
  end
  if #rows == 0 then
    app.out("no users yet ('candor init' makes the local user; add one: candor user add NAME)\n")
    return 0
  end
  app.out(string.format("%-20s %-24s %-28s %-5s %-6s %-8s %8s  %s\n", "username", "display name", "email", "role",
    "active", "password", "sessions", "created"))
  for i, u in ipairs(rows) do
    app.out(string.format("%s %s %s %-5s %-6s %-8s %8d  %s%s\n", show.fit(u.username, 20), show.fit(u.display_name, 24),
      show.fit(u.email, 28), u.role, u.is_active and "yes" or "no", has_password(u) and "set" or "none", counts[i],
      show.time(u.created_at), u.username == local_name() and "  (the CLI's default)" or ""))
  end
  return 0
end

local function add(app, opts, name)
  check_username(name)
  if name:lower() == local_name() then
    error(string.format("user '%s' is the CLI's own user: 'candor init' makes it", local_name()), 0)
  end
  local email = check_email(opts.email or (name .. "@localhost"))
  local display = check_display_name(opts["display-name"] or name)
  -- hashed before the write transaction: 12 rounds take a noticeable moment
  local hash = opts["password-stdin"] and require("core.crypto").bcrypt_hash(read_password()) or "!"
  local u, why = users():add(app.db(), { username = name, email = email, display_name = display, password_hash = hash })
  if not u then error(why .. " (see 'candor user list')", 0) end
  app.out(string.format("added user %s (%s), role %s, %s; act as them with --user %s\n", u.username, u.id, u.role,
    has_password(u) and "password set" or "no password", u.username))
  return 0
end

-- The answer on a terminal -> true or false; nil when there is no terminal to ask on.
local function confirmed(prompt)
  local host = require "core.host"
  if not (host.isatty(0) and host.isatty(1)) then return nil end
  local answer = require("core.edit").readline(prompt)
  return answer ~= nil and answer:match("^%s*[yY]") ~= nil
end

-- The user called name, in any case (names are unique without regard to it),
-- or the error for a name that names none.
local function find_user(db, name)
  local wanted = name:lower()
  for _, u in ipairs(users():list(db)) do
    if u.username:lower() == wanted then return u end
  end
  return show.found(nil, "user", name, "candor user list")
end

local function remove(app, opts, name)
  local db = app.db()
  local u = find_user(db, name)
  if u.username == local_name() then
    error(string.format("user '%s' is the CLI's default user (every command without --user acts as it): "
      .. "it cannot be removed", u.username), 0)
  end
  local owned = users():owned_counts(db, u.id)
  if owned.sessions > 0 and not opts.yes then
    local what = string.format("user %s owns %s; removing the user deletes %s too", u.username, owned_text(owned),
      owned.sessions == 1 and "it" or "them")
    local yes = confirmed(string.format("Remove user %s and %s? [y/N] ", u.username, owned_text(owned)))
    if yes == nil then error(usage("user remove: %s: give --yes to remove", what), 0) end
    if not yes then
      app.out("not removed\n")
      return 1
    end
  end
  local gone = db:transaction(function()
    -- without --yes, what is deleted is what was agreed to: a session made since then stops the removal
    local now = users():owned_counts(db, u.id)
    if not opts.yes and now.sessions > owned.sessions then
      error(string.format("user %s now owns %d sessions (it owned %d a moment ago); nothing was removed",
        u.username, now.sessions, owned.sessions), 0)
    end
    users():delete(db, u.id)
    return now
  end)
  if gone.sessions == 0 then
    app.out(string.format("removed user %s (no sessions)\n", u.username))
  else
    app.out(string.format("removed user %s and %s\n", u.username, owned_text(gone)))
  end
  return 0
end

function M.run(app, opts, pos)
  local sub = pos[1] or "list"
  show.check_subcommand(M, sub, opts, ALLOWED, "list, add NAME, remove NAME")
  if sub == "list" then
    if pos[2] then error(usage("user list: unexpected argument '%s'", pos[2]), 0) end
    return list(app, opts)
  end
  if not pos[2] then error(usage("user %s: missing the user's NAME", sub), 0) end
  if sub == "add" then return add(app, opts, pos[2]) end
  return remove(app, opts, pos[2])
end

return M
